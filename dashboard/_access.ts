// Runs on the main thread: who may read a dashboard. With a token, every
// request must carry it (`?token=` or `Authorization: Bearer`); compared in
// constant time. Without one, a dashboard on a loopback address answers
// only requests that name a loopback host, so a web page elsewhere cannot
// reach it by pointing its own domain at 127.0.0.1 (DNS rebinding).

const encoder = new TextEncoder();

/** Why a request is refused: 401 (no or wrong token), 403 (foreign host). */
export type Refusal = 401 | 403 | undefined;

/**
 * Whether `request` may be answered.
 *
 * @param request The request.
 * @param url Its parsed URL.
 * @param token The dashboard's token, if it has one.
 * @param loopback The dashboard listens on a loopback address only.
 * @returns `undefined` to answer it, else the status to refuse it with.
 */
export function refusal(
  request: Request,
  url: URL,
  token: string | undefined,
  loopback: boolean,
): Refusal {
  if (token !== undefined) {
    const header = request.headers.get("authorization");
    const bearer = header?.match(/^Bearer\s+(.+)$/i)?.[1].trim();
    const given = bearer ?? url.searchParams.get("token");
    return given !== null && sameText(given, token) ? undefined : 401;
  }
  if (loopback && !isLoopbackName(url.hostname)) return 403;
  return undefined;
}

/** Whether `hostname` (of a URL, or one to listen on) is a loopback one. */
export function isLoopbackName(hostname: string): boolean {
  const name = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return name === "localhost" || name.endsWith(".localhost") ||
    name === "::1" || /^127(?:\.\d{1,3}){3}$/.test(name);
}

// Equal strings, in a time that depends only on their lengths.
function sameText(given: string, expected: string): boolean {
  const a = encoder.encode(given);
  const b = encoder.encode(expected);
  let diff = a.length ^ b.length;
  for (let i = 0; i < b.length; i++) diff |= (a[i] ?? 0) ^ b[i];
  return diff === 0;
}
