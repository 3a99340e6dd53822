// Runs on the main thread: a dashboard's routes. Read-only: GET (and HEAD)
// of the page, /api/snapshot and /metrics; anything else is 404 or 405.
// Every answer is refused first if the request may not read it (_access.ts).
import { refusal } from "./_access.ts";
import { formatMetrics, METRICS_CONTENT_TYPE } from "./_metrics.ts";
import { page } from "./_page.ts";
import type { DashboardSource } from "./source.ts";

/** What the routes need to answer. */
export interface HandlerOptions {
  source: DashboardSource;
  token: string | undefined;
  /** The server listens on a loopback address only. */
  loopback: boolean;
}

// No cache (the figures are live), no sniffing, no referrer (a URL may hold
// the token).
const COMMON = {
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

/** The request handler of a dashboard's server. */
export function dashboardHandler(
  { source, token, loopback }: HandlerOptions,
): (request: Request) => Promise<Response> {
  return async (request) => {
    const url = new URL(request.url);
    const refused = refusal(request, url, token, loopback);
    if (refused === 401) {
      return text(
        401,
        "401 Unauthorized: this dashboard needs its token, as ?token= or Authorization: Bearer\n",
        { "www-authenticate": 'Bearer realm="dashboard"' },
      );
    }
    if (refused === 403) {
      return text(
        403,
        `403 Forbidden: this dashboard answers only requests to a loopback host (127.0.0.1, localhost), not ${url.hostname}\n`,
      );
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      return text(405, "405 Method Not Allowed: the dashboard is read-only\n", {
        allow: "GET, HEAD",
      });
    }
    try {
      switch (url.pathname) {
        case "/":
        case "/index.html":
          return html();
        case "/api/snapshot":
          return new Response(JSON.stringify(await source.snapshot()), {
            headers: { ...COMMON, "content-type": "application/json" },
          });
        case "/metrics":
          return new Response(formatMetrics(await source.metrics()), {
            headers: { ...COMMON, "content-type": METRICS_CONTENT_TYPE },
          });
        default:
          return text(404, `404 Not Found: ${url.pathname}\n`);
      }
    } catch (error) {
      return text(500, `500 Internal Server Error: ${error}\n`);
    }
  };
}

// The page, its script allowed by a fresh nonce, nothing from elsewhere.
function html(): Response {
  const nonce = crypto.randomUUID().replaceAll("-", "");
  return new Response(page(nonce), {
    headers: {
      ...COMMON,
      "content-type": "text/html; charset=utf-8",
      "content-security-policy":
        `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    },
  });
}

function text(
  status: number,
  body: string,
  headers: Record<string, string> = {},
): Response {
  return new Response(body, {
    status,
    headers: { ...COMMON, ...headers, "content-type": "text/plain" },
  });
}
