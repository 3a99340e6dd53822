/**
 * `ThreadPoolExecutor`: a pool of Deno Workers, each under the pool's own
 * permission set.
 *
 * @module
 */
import { PoolExecutor, type PoolExecutorOptions } from "./pool_executor.ts";
import { threadSpawner } from "./_thread/spawn.ts";
import { nodeThreadSpawner } from "./_thread/node_spawn.ts";
import { probeWorkerPermissions } from "./_pool/permissions.ts";
import { checkPoolOptions } from "./_pool/options.ts";
import type { PoolSetup } from "./_pool/submit.ts";

/**
 * Options of {@linkcode ThreadPoolExecutor}: those of every pool
 * ({@linkcode PoolExecutorOptions}). Anything but `permissions: "inherit"`
 * needs Deno's `worker-options` unstable feature (`"unstable":
 * ["worker-options"]` in deno.json, or `--unstable-worker-options`): without
 * it Deno ends the program (exit code 70) when such a pool is constructed.
 */
export type ThreadPoolExecutorOptions = PoolExecutorOptions;

/**
 * Runs tasks on a pool of Deno Workers, as Python's `ThreadPoolExecutor`
 * runs them on threads, but in parallel and, if asked, sandboxed.
 *
 * A task is a self-contained function (its source travels to the worker and
 * is compiled once there) or a module export from `fromModule`. Arguments
 * and results are structured-cloned. A worker that dies under a task fails
 * only that task, with `BrokenExecutorError`, and is replaced.
 *
 * @example Run tasks on two workers
 * ```ts
 * import { ThreadPoolExecutor } from "@concurrent/futures";
 * import assert from "node:assert/strict";
 *
 * await using pool = new ThreadPoolExecutor({ maxWorkers: 2 });
 * const future = pool.submit((a: number, b: number) => a + b, 1, 2);
 * assert.equal(await future.result(), 3);
 *
 * const squares = [];
 * for await (const n of pool.map((x: number) => x * x, [1, 2, 3])) {
 *   squares.push(n);
 * }
 * assert.deepEqual(squares, [1, 4, 9]);
 * ```
 *
 * @example A sandboxed pool
 * ```ts
 * import { ThreadPoolExecutor } from "@concurrent/futures";
 * import assert from "node:assert/strict";
 *
 * await using pool = new ThreadPoolExecutor({ permissions: "none" });
 * const read = pool.submit(() => Deno.readTextFile("/etc/hostname"));
 * await assert.rejects(read.result(), Deno.errors.NotCapable);
 * ```
 */
export class ThreadPoolExecutor extends PoolExecutor {
  /**
   * Makes a pool; no worker starts until there is work.
   *
   * @param options The pool's options.
   * @throws {TypeError} For an unknown option, or a value of the wrong type.
   * @throws {RangeError} For a number out of range.
   * @throws {Deno.errors.NotCapable} For `permissions` wider than the
   * program's own.
   */
  constructor(options: ThreadPoolExecutorOptions = {}) {
    const owner = "ThreadPoolExecutor";
    const { permissions, memoryLimit, ...pool } = checkPoolOptions(
      options,
      owner,
    );
    if (memoryLimit !== undefined && permissions !== undefined) {
      throw new TypeError(
        `Cannot create ${owner} with both 'memoryLimit' and scoped 'permissions': on Deno 2.9 a thread with a heap limit (node:worker_threads) ignores permissions, and one with permissions (a Web Worker) has no heap limit. Use ProcessPoolExecutor, whose children have both`,
      );
    }
    // Without the worker-options feature this ends the process (exit 70):
    // here, before any task, rather than at a first task.
    if (permissions !== undefined) probeWorkerPermissions(permissions, owner);
    // Only a node:worker_threads Worker can have a heap limit.
    const spawn = memoryLimit === undefined
      ? threadSpawner(permissions)
      : nodeThreadSpawner(memoryLimit);
    const workers: PoolSetup = {
      owner,
      pool: { ...pool, spawn },
      permissions,
    };
    super(workers);
  }
}
