// A local web server for the URL examples (there is no internet here):
// pages of several sizes, and one path that fails on purpose.
export interface LocalSite extends AsyncDisposable {
  /** The URLs to fetch; the last one answers 500. */
  urls: string[];
}

/** Starts the server on 127.0.0.1, on a free port. */
export function startLocalSite(): LocalSite {
  const pages: Record<string, number> = {
    "/": 1_200,
    "/news": 35_000,
    "/docs": 250_000,
    "/about": 4_000,
  };
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request) => {
      const size = pages[new URL(request.url).pathname];
      if (size === undefined) {
        return new Response("internal error", { status: 500 });
      }
      return new Response("x".repeat(size));
    },
  );
  const base = `http://127.0.0.1:${server.addr.port}`;
  return {
    urls: [...Object.keys(pages), "/broken"].map((path) => base + path),
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}
