// A local web server for the URL examples (there is no internet here):
// pages of several sizes, one path that fails on purpose, and one that fails
// its first two requests (for retries).
export interface LocalSite extends AsyncDisposable {
  /** The URLs to fetch; the last one answers 500. */
  urls: string[];
  /** Answers 503 twice, then 200: a page worth retrying. */
  flaky: string;
}

/** Starts the server on 127.0.0.1, on a free port. */
export function startLocalSite(): LocalSite {
  const pages: Record<string, number> = {
    "/": 1_200,
    "/news": 35_000,
    "/docs": 250_000,
    "/about": 4_000,
  };
  let flakyHits = 0;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request) => {
      const path = new URL(request.url).pathname;
      if (path === "/flaky") {
        return ++flakyHits <= 2
          ? new Response("busy, try again", { status: 503 })
          : new Response("y".repeat(2_000));
      }
      const size = pages[path];
      if (size === undefined) {
        return new Response("internal error", { status: 500 });
      }
      return new Response("x".repeat(size));
    },
  );
  const base = `http://127.0.0.1:${server.addr.port}`;
  return {
    urls: [...Object.keys(pages), "/broken"].map((path) => base + path),
    flaky: `${base}/flaky`,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}
