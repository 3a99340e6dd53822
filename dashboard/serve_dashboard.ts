/**
 * `serveDashboard`: a live web page of what an executor is doing, with
 * `/api/snapshot` (JSON) and `/metrics` (Prometheus).
 *
 * @module
 */
import type { Executor } from "../executor/executor.ts";
import { PoolExecutor } from "../executor/pool_executor.ts";
import { describe } from "../future/_util.ts";
import { PoolSource } from "./_pool_source.ts";
import { setFactory, sourceFor } from "./_registry.ts";
import { type Dashboard, serveSource } from "./serve_source.ts";

export type { Dashboard };

setFactory(PoolExecutor.prototype, (pool) => new PoolSource(pool));

/** Options of {@linkcode serveDashboard}. */
export interface DashboardOptions {
  /**
   * The TCP port to listen on; 0 takes a free one (read it in `url`).
   *
   * @default {0}
   */
  port?: number;
  /**
   * The address to listen on. The page shows tasks' errors and stacks,
   * which can hold secrets: listen elsewhere only with a `token`.
   *
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /**
   * A secret every request must carry, as `?token=` in the URL or an
   * `Authorization: Bearer` header; without it the answer is 401. The
   * page passes it on to its own requests.
   */
  token?: string;
}

const OPTIONS = ["port", "hostname", "token"];

/**
 * Serves a live dashboard of `executor`: its workers, a timeline of its
 * tasks, progress per function, rates, and the latest failures, on one page
 * that updates itself every second; `/api/snapshot` is what the page shows,
 * as JSON, and `/metrics` the figures in Prometheus's text format. The
 * dashboard records the executor's tasks from the moment it starts (a pool
 * with no dashboard records nothing) and keeps the last minutes.
 *
 * Read-only, and on 127.0.0.1 unless told otherwise. The page shows tasks'
 * errors and stacks: give a `token` before listening anywhere else.
 *
 * For a `RedisExecutor` (once `jsr:@concurrent/futures/redis` is imported)
 * it shows its whole queue, read from Redis alone: every node, and the
 * tasks of every submitter, from the history the nodes keep in the capped
 * stream `<queue>:events` (also what the program
 * `jsr:@concurrent/futures/redis/dashboard` serves).
 *
 * @param executor A `ThreadPoolExecutor`, `ProcessPoolExecutor` or
 * `RedisExecutor`.
 * @param options Where to listen, and the token.
 * @returns The running dashboard, with its `url`.
 * @throws {TypeError} For an executor it cannot watch, an unknown option or
 * a value of the wrong type.
 * @throws {RangeError} For a port out of range.
 * @throws {Deno.errors.AddrInUse} When the port is taken.
 *
 * @example Serve a pool's dashboard and read its figures
 * ```ts
 * import { serveDashboard, ThreadPoolExecutor } from "@concurrent/futures";
 * import assert from "node:assert/strict";
 *
 * await using pool = new ThreadPoolExecutor({ maxWorkers: 2 });
 * await using board = serveDashboard(pool, { token: "s3cret" });
 * await pool.submit((x: number) => x * 2, 21).result();
 *
 * const denied = await fetch(new URL("/metrics", board.url));
 * await denied.body?.cancel();
 * assert.equal(denied.status, 401);
 *
 * const snapshot = await fetch(new URL("/api/snapshot", board.url), {
 *   headers: { authorization: "Bearer s3cret" },
 * }).then((response) => response.json());
 * assert.equal(snapshot.stats.completed, 1);
 * assert.equal(snapshot.tasks[0].outcome, "completed");
 * ```
 */
export function serveDashboard(
  executor: Executor,
  options: DashboardOptions = {},
): Dashboard {
  if (executor === null || typeof executor !== "object") {
    throw new TypeError(
      `Cannot serve dashboard as 'executor' must be an executor: current value is ${
        describe(executor)
      }`,
    );
  }
  const { port, hostname, token } = checkOptions(options);
  return serveSource(sourceFor(executor), { port, hostname, token });
}

function checkOptions(options: unknown):
  & Required<
    Omit<DashboardOptions, "token">
  >
  & { token: string | undefined } {
  const action = "serve dashboard";
  if (options === null || typeof options !== "object") {
    throw new TypeError(
      `Cannot ${action} as 'options' must be an object: current value is ${
        describe(options)
      }`,
    );
  }
  for (const key of Object.keys(options)) {
    if (!OPTIONS.includes(key)) {
      throw new TypeError(
        `Cannot ${action} as '${key}' is not an option: the options are ${
          OPTIONS.join(", ")
        }`,
      );
    }
  }
  const { port = 0, hostname = "127.0.0.1", token } = options as Record<
    string,
    unknown
  >;
  if (typeof port !== "number" || !Number.isInteger(port)) {
    throw new TypeError(
      `Cannot ${action} as 'port' must be an integer: current value is ${
        describe(port)
      }`,
    );
  }
  if (port < 0 || port > 65535) {
    throw new RangeError(
      `Cannot ${action} as 'port' must be between 0 and 65535: current value is ${port}`,
    );
  }
  if (typeof hostname !== "string" || hostname === "") {
    throw new TypeError(
      `Cannot ${action} as 'hostname' must be a non-empty string: current value is ${
        describe(hostname)
      }`,
    );
  }
  if (token !== undefined && (typeof token !== "string" || token === "")) {
    throw new TypeError(
      `Cannot ${action} as 'token' must be a non-empty string: current value is ${
        describe(token)
      }`,
    );
  }
  return { port, hostname, token };
}
