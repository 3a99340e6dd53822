/**
 * `ThreadPoolExecutor`: a pool of Deno Workers, each under the pool's own
 * permission set.
 *
 * @module
 */
import type { Future } from "../future/future.ts";
import {
  type ChunkOutcome,
  Executor,
  type RunOptions,
  type ShutdownOptions,
  type Task,
} from "./executor.ts";
import { Pool } from "./_pool.ts";
import { threadSpawner } from "./_thread_worker.ts";
import {
  type Permissions,
  probeWorkerPermissions,
  resolvePermissions,
} from "./_permissions.ts";
import {
  checkCommonOptions,
  type ExecutorState,
  submitChunk,
  submitTo,
} from "./_options.ts";

export type { Permissions };

/** Options of {@linkcode ThreadPoolExecutor}. */
export interface ThreadPoolExecutorOptions {
  /**
   * The most workers running at once, an integer >= 1. Workers start
   * lazily: an idle worker is reused first, and a new one starts only while
   * tasks wait.
   *
   * @default {navigator.hardwareConcurrency}
   */
  maxWorkers?: number;
  /**
   * The workers' permissions: `"inherit"` (the program's), `"none"`, or an
   * object such as `{ read: ["./data"], net: ["127.0.0.1:8000"] }` in which
   * an omitted key is denied. Anything but `"inherit"` needs Deno's
   * `worker-options` unstable feature (`"unstable": ["worker-options"]` in
   * deno.json, or `--unstable-worker-options`): without it Deno ends the
   * program (exit code 70) when such a pool is constructed. A set wider than
   * the program's own is refused at construction.
   *
   * @default {"inherit"}
   */
  permissions?: Permissions;
  /**
   * Runs once in each new worker before its first task; if it throws, the
   * pool is broken.
   */
  initializer?: Task;
  /**
   * The initializer's arguments.
   *
   * @default {[]}
   */
  initargs?: unknown[];
  /**
   * A worker is replaced after this many tasks.
   *
   * @default {Infinity}
   */
  maxTasksPerWorker?: number;
  /**
   * Milliseconds after which an idle worker exits. An idle Deno Worker keeps
   * its program alive, so this is short: a program that never calls
   * `shutdown()` still exits soon after its last task.
   *
   * @default {1000}
   */
  idleTimeout?: number;
  /**
   * The workers' name prefix, shown in stack traces and errors.
   *
   * @default {"ThreadPoolExecutor"}
   */
  name?: string;
}

const OPTIONS = [
  "maxWorkers",
  "permissions",
  "initializer",
  "initargs",
  "maxTasksPerWorker",
  "idleTimeout",
  "name",
] as const;

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
export class ThreadPoolExecutor extends Executor {
  #state: ExecutorState;
  #closed: Promise<void> | undefined;

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
    super();
    const owner = "ThreadPoolExecutor";
    const common = checkCommonOptions(
      options as Record<string, unknown>,
      owner,
      OPTIONS,
    );
    const permissions = resolvePermissions(options.permissions, owner);
    // Without the worker-options feature this ends the process (exit 70):
    // here, before any task, rather than at a first task.
    if (permissions !== undefined) probeWorkerPermissions(permissions, owner);
    this.#state = {
      owner,
      shutdown: false,
      pool: new Pool({ ...common, spawn: threadSpawner(permissions) }),
    };
  }

  /**
   * Schedules `fn(...args)` with per-task options.
   *
   * @typeParam A The task's parameters.
   * @typeParam R The task's return type.
   * @param fn The task: a self-contained function or a `fromModule` task.
   * @param args Its arguments, structured-cloned to the worker.
   * @param options `timeout`, `signal` and `transfer`.
   * @returns The task's future.
   * @throws {ShutdownError} After `shutdown()`.
   * @throws {BrokenExecutorError} When the pool is broken.
   * @throws {TypeError} For something that is not a task, or bad options.
   *
   * @example A task with a timeout
   * ```ts
   * import { ThreadPoolExecutor, TimeoutError } from "@concurrent/futures";
   * import assert from "node:assert/strict";
   *
   * await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
   * const slow = pool.run(() => new Promise(() => {}), [], { timeout: 50 });
   * await assert.rejects(slow.result(), TimeoutError);
   * ```
   */
  run<A extends unknown[], R>(
    fn: Task<A, R>,
    args: A,
    options?: RunOptions,
  ): Future<Awaited<R>> {
    return submitTo(this.#state, fn as Task, args, options, 0);
  }

  /**
   * Sends a chunk of `map` calls to one worker as one task.
   *
   * @param fn The task.
   * @param calls One argument list per call.
   * @returns The future of the chunk's outcome.
   */
  protected override runChunk(
    fn: Task,
    calls: unknown[][],
  ): Future<ChunkOutcome> {
    return submitChunk(this.#state, fn, calls);
  }

  /**
   * Stops taking work. Idempotent.
   *
   * @param options `wait` (default `true`): resolve once every task is done
   * and every worker is gone; `cancelFutures`: cancel the tasks not started.
   * @returns A promise that resolves once shut down (at once with
   * `wait: false`).
   *
   * @example Cancel what has not started
   * ```ts
   * import { ThreadPoolExecutor } from "@concurrent/futures";
   * import assert from "node:assert/strict";
   *
   * const pool = new ThreadPoolExecutor({ maxWorkers: 1 });
   * const futures = [1, 2, 3].map((n) => pool.submit((x: number) => x, n));
   * await pool.shutdown({ cancelFutures: true });
   * assert.ok(futures.every((f) => f.done()));
   * ```
   */
  shutdown(options: ShutdownOptions = {}): Promise<void> {
    const { wait = true, cancelFutures = false } = options;
    this.#state.shutdown = true;
    const closed = this.#state.pool.close(cancelFutures);
    this.#closed ??= closed;
    return wait ? closed : Promise.resolve();
  }
}
