// Runs on the main thread: serves a DashboardSource (the page, its API and
// /metrics) on a listening socket. serveDashboard finds the source for an
// executor; the Redis dashboard program (executor/redis/dashboard_main.ts)
// has its queue's source without an executor. Not exported by mod.ts.
import { isLoopbackName } from "./_access.ts";
import { dashboardHandler } from "./_handler.ts";
import type { DashboardSource } from "./source.ts";

/** A running dashboard; dispose of it (or `close()`) to stop it. */
export interface Dashboard extends AsyncDisposable {
  /**
   * Where the page is, e.g. `http://127.0.0.1:8787/` (without the token:
   * add `?token=…` to open it).
   */
  readonly url: string;
  /** Stops serving and watching the executor. Idempotent. */
  close(): Promise<void>;
}

/** Where to listen, checked, and the token. */
export interface ServeOptions {
  port: number;
  hostname: string;
  token: string | undefined;
}

/**
 * Serves `source` until the returned dashboard is closed, which closes the
 * source too (also when serving fails to start).
 *
 * @throws {Deno.errors.AddrInUse} When the port is taken.
 */
export function serveSource(
  source: DashboardSource,
  { port, hostname, token }: ServeOptions,
): Dashboard {
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      port,
      hostname,
      onListen: () => {},
      handler: dashboardHandler({
        source,
        token,
        loopback: isLoopbackName(hostname),
      }),
    });
  } catch (error) {
    source.close();
    throw error;
  }
  const { hostname: address, port: bound } = server.addr;
  const host = address.includes(":") ? `[${address}]` : address;
  let closed: Promise<void> | undefined;
  const close = () => closed ??= server.shutdown().then(() => source.close());
  return {
    url: `http://${host}:${bound}/`,
    close,
    [Symbol.asyncDispose]: close,
  };
}
