/**
 * `PoolExecutor`: what `ThreadPoolExecutor` and `ProcessPoolExecutor`
 * share — their options, the submit path, `map` chunks and `shutdown` — on
 * top of one scheduler. Each pool adds only how its workers start.
 *
 * @module
 */
import { checkLabels } from "./_base/labels.ts";
import type { Future } from "../future/future.ts";
import {
  type ChunkOutcome,
  Executor,
  type RunOptions,
  type ShutdownOptions,
  type Task,
} from "./executor.ts";
import type { Permissions } from "./_pool/permissions.ts";
import type { ExecutorStats } from "./stats.ts";
import { Pool } from "./_pool/pool.ts";
import { functionSpec } from "./_base/function_spec.ts";
import type { FutureArgs } from "./_base/graph.ts";
import { deferredOf } from "./_base/deferred.ts";
import { checkRun, mustHold } from "./_base/run_options.ts";
import {
  checkOpen,
  type ExecutorState,
  type PoolSetup,
  type PoolWorkers,
  register,
  submitTo,
} from "./_pool/submit.ts";

export type { Permissions, PoolWorkers };

/** The options every pool executor takes. */
export interface PoolExecutorOptions {
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
   * an omitted key is denied. A set wider than the program's own is refused
   * at construction. A scoped pool (anything but `"inherit"`) also closes
   * what a worker could reach without a permission check: see README.
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
   * Milliseconds after which an idle worker exits. An idle worker keeps its
   * program alive, so this is short: a program that never calls
   * `shutdown()` still exits soon after its last task.
   *
   * @default {1000}
   */
  idleTimeout?: number;
  /**
   * The workers' name prefix, shown in stack traces and errors.
   *
   * @default {the class's name}
   */
  name?: string;
  /**
   * MB of V8 heap per worker: a task that needs more fails with
   * `BrokenExecutorError` naming the limit, its worker is replaced, and the
   * program lives. In a process pool this is the child's heap limit, and it
   * holds whatever the task allocates. In a thread pool it needs
   * `permissions: "inherit"` (Deno gives a thread either a heap limit or a
   * permission set, not both) and Deno 2.9 enforces it only in part: see
   * README, "What a thread cannot do".
   */
  memoryLimit?: number;
}

/**
 * The base of the pool executors: a queue and a scheduler that hand tasks
 * to workers (threads or processes), with Python's `submit`, `map` and
 * `shutdown` on top. Use `ThreadPoolExecutor` or `ProcessPoolExecutor`.
 *
 * @example Code that takes any pool
 * ```ts
 * import { type PoolExecutor, ThreadPoolExecutor } from "@concurrent/futures";
 * import assert from "node:assert/strict";
 *
 * async function sum(pool: PoolExecutor, values: number[]): Promise<number> {
 *   let total = 0;
 *   for await (const v of pool.map((x: number) => x, values)) total += v;
 *   return total;
 * }
 * await using pool = new ThreadPoolExecutor({ maxWorkers: 2 });
 * assert.equal(await sum(pool, [1, 2, 3]), 6);
 * ```
 */
export abstract class PoolExecutor extends Executor {
  readonly #state: ExecutorState;
  #closed: Promise<void> | undefined;

  /**
   * Makes a pool; no worker starts until there is work.
   *
   * @param workers The workers, from the subclass's checked options.
   */
  protected constructor(workers: PoolWorkers) {
    super();
    const { owner, pool, permissions } = workers as PoolSetup;
    this.#state = {
      owner,
      shutdown: false,
      pool: new Pool(pool),
      permissions,
    };
    register(this, this.#state);
  }

  /**
   * Schedules `fn(...args)` with per-task options.
   *
   * @typeParam A The task's parameters.
   * @typeParam R The task's return type.
   * @param fn The task: a self-contained function or a `fromModule` task.
   * @param args Its arguments, cloned to the worker.
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
    args: NoInfer<FutureArgs<A>>,
    options?: RunOptions,
  ): Future<Awaited<R>> {
    const state = this.#state;
    checkOpen(state);
    const spec = functionSpec(fn, "submit");
    const policy = checkRun(args, options);
    if (options?.labels !== undefined) {
      checkLabels(options.labels, state.owner, false, "submit");
    }
    if (!mustHold(args, policy)) {
      return submitTo(state, spec, args, options, 0);
    }
    // Waits for its futures, or may run again: held here, then each
    // attempt goes to the pool (also after shutdown(), which waits for it).
    const { timeout, signal, transfer } = options ?? {};
    return deferredOf(this).run(
      args,
      { policy, signal, transfer },
      (values, attempt, moved) => {
        checkOpen(state, true);
        submitTo(
          state,
          spec,
          values,
          { timeout, signal, transfer: moved },
          0,
          attempt,
        );
      },
    );
  }

  /**
   * Sends a chunk of `map` calls to one worker as one task.
   *
   * @param fn The task.
   * @param columns The calls' arguments, one array per parameter.
   * @param held Whether the executor held the chunk (then it runs after
   * shutdown too).
   * @returns The future of the chunk's outcome.
   */
  protected override runChunk(
    fn: Task,
    columns: unknown[][],
    held = false,
    _labels: readonly string[] = [],
  ): Future<ChunkOutcome> {
    const state = this.#state;
    checkOpen(state, held);
    return submitTo(state, functionSpec(fn, "submit"), columns, undefined, 1);
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
    const state = this.#state;
    state.shutdown = true;
    const deferred = deferredOf(this);
    if (cancelFutures) {
      deferred.cancelPending();
      state.pool.cancelQueued();
    }
    // The tasks held here (waiting, or between attempts) still need the
    // workers: the pool closes once none is left.
    this.#closed ??= deferred.settled().then(() => state.pool.close(false));
    return wait ? this.#closed : Promise.resolve();
  }

  /**
   * A snapshot of what the pool is doing and has done: workers, queue,
   * counts, run and wait times, utilization. Cheap enough to call every
   * 100 ms; memory stays bounded however many tasks run.
   *
   * @returns The snapshot.
   *
   * @example Watch a pool
   * ```ts
   * import { ThreadPoolExecutor } from "@concurrent/futures";
   * import assert from "node:assert/strict";
   *
   * await using pool = new ThreadPoolExecutor({ maxWorkers: 2 });
   * await Promise.all([1, 2, 3].map((n) => pool.submit((x: number) => x, n).result()));
   * const stats = pool.stats();
   * assert.equal(stats.completed, 3);
   * assert.equal(stats.runTime.count, 3);
   * ```
   */
  stats(): ExecutorStats {
    return { ...this.#state.pool.stats(), retried: deferredOf(this).retried };
  }

  /**
   * Stops every worker now: their tasks and the pending ones fail with
   * `BrokenExecutorError`, and the pool is broken.
   *
   * @param reason What the failures say.
   */
  protected stopWorkers(reason: string): void {
    this.#state.pool.terminate(reason);
  }
}
