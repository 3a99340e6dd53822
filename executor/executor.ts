/**
 * `Executor`: the abstract base of every executor. `map` and
 * `Symbol.asyncDispose` are built here on top of `run` and `shutdown`.
 *
 * @module
 */
import { Future } from "../future/future.ts";
import type { TaskRef } from "./from_module.ts";
import {
  type ChunkOutcome,
  type MapOptions,
  mapResults,
} from "./_base/map_run.ts";
import { columnsHaveFuture, type FutureArgs } from "./_base/graph.ts";
import type { RetryOptions } from "./_base/retry.ts";
import type { LabelOptions } from "./_base/labels.ts";
import { deferredOf } from "./_base/deferred.ts";
import { heldChunk } from "./_base/chunk_run.ts";

export type {
  ChunkOutcome,
  FutureArgs,
  LabelOptions,
  MapOptions,
  RetryOptions,
};

/**
 * What an executor runs: a self-contained function (its source travels to
 * the worker) or a reference to a module's export, from `fromModule`.
 *
 * @typeParam A The parameters.
 * @typeParam R The return type.
 */
export type Task<A extends unknown[] = never[], R = unknown> =
  | ((...args: A) => R)
  | TaskRef<A, R>;

/**
 * Per-task options of {@linkcode Executor.run}: `timeout`, `signal`,
 * `transfer`, and the retries of {@linkcode RetryOptions}.
 */
export interface RunOptions extends RetryOptions, LabelOptions {
  /**
   * Milliseconds from the task's start: past it the future rejects with
   * `TimeoutError` and the task's worker is stopped and replaced.
   *
   * @default {Infinity}
   */
  timeout?: number;
  /**
   * Aborting cancels a pending task (`CancelledError`) and stops a running
   * one as `timeout` does, failing its future with `signal.reason`.
   */
  signal?: AbortSignal;
  /**
   * Buffers (and other transferables) in the arguments to move, not copy:
   * they are detached in the caller as soon as `run()` returns.
   *
   * @default {[]}
   */
  transfer?: Transferable[];
}

/** Options of {@linkcode Executor.shutdown}. */
export interface ShutdownOptions {
  /**
   * Resolve only once every pending and running task is done and every
   * worker is gone.
   *
   * @default {true}
   */
  wait?: boolean;
  /**
   * Cancel the tasks that have not started.
   *
   * @default {false}
   */
  cancelFutures?: boolean;
}

/**
 * The inputs of {@linkcode Executor.map}: one iterable (sync or async) per
 * parameter of the task; an item may be another task's future, whose value
 * the call then gets.
 *
 * @typeParam A The task's parameters.
 */
export type MapInputs<A extends unknown[]> = {
  [K in keyof A]:
    | Iterable<A[K] | Future<A[K]>>
    | AsyncIterable<A[K] | Future<A[K]>>;
};

/**
 * The base of every executor, as Python's `concurrent.futures.Executor`:
 * subclasses implement `run` and `shutdown`; `submit`, `map` and
 * `await using` come with it.
 *
 * @example An executor that runs tasks on the main thread
 * ```ts
 * import { Executor, Future, type Task } from "@concurrent/futures";
 * import assert from "node:assert/strict";
 *
 * class InlineExecutor extends Executor {
 *   run<A extends unknown[], R>(fn: Task<A, R>, args: A): Future<Awaited<R>> {
 *     const future = new Future<Awaited<R>>();
 *     future.setRunningOrNotifyCancel();
 *     Promise.resolve((fn as (...args: A) => R)(...args)).then(
 *       (value) => future.setResult(value),
 *       (error) => future.setException(error),
 *     );
 *     return future;
 *   }
 *   shutdown(): Promise<void> {
 *     return Promise.resolve();
 *   }
 * }
 *
 * await using executor = new InlineExecutor();
 * const results = [];
 * for await (const n of executor.map((x: number) => x * 2, [1, 2, 3])) {
 *   results.push(n);
 * }
 * assert.deepEqual(results, [2, 4, 6]);
 * ```
 */
export abstract class Executor implements AsyncDisposable {
  /**
   * Schedules `fn(...args)` and returns its future. An argument may be
   * another task's future (of any executor): the task then waits for it,
   * holding nothing, and runs with its value.
   *
   * @typeParam A The task's parameters.
   * @typeParam R The task's return type.
   * @param fn The task.
   * @param args Its arguments, each a value or a future of one.
   * @returns The task's future.
   * @throws {ShutdownError} After `shutdown()`.
   * @throws {BrokenExecutorError} When the executor is broken.
   * @throws {TypeError} For something that is not a task.
   */
  submit<A extends unknown[], R>(
    fn: Task<A, R>,
    ...args: NoInfer<FutureArgs<A>>
  ): Future<Awaited<R>> {
    return this.run(fn, args);
  }

  /**
   * Schedules `fn(...args)` with per-task options and returns its future.
   *
   * @typeParam A The task's parameters.
   * @typeParam R The task's return type.
   * @param fn The task.
   * @param args Its arguments, each a value or a future of one.
   * @param options `timeout`, `signal`, `transfer`, and retries.
   * @returns The task's future.
   */
  abstract run<A extends unknown[], R>(
    fn: Task<A, R>,
    args: NoInfer<FutureArgs<A>>,
    options?: RunOptions,
  ): Future<Awaited<R>>;

  /**
   * Stops taking work. Idempotent.
   *
   * @param options `wait` and `cancelFutures`.
   * @returns A promise that resolves when the executor is shut down (at once
   * with `wait: false`).
   */
  abstract shutdown(options?: ShutdownOptions): Promise<void>;

  /**
   * Runs several calls as one task; `map` uses it when `chunksize > 1`.
   * This default runs one task per call; a pool overrides it to send the
   * whole chunk to one worker.
   *
   * @param fn The task.
   * @param columns The calls' arguments, one array per parameter (all of
   * the same length): call `i` is `fn(columns[0][i], columns[1][i], ...)`.
   * @param _held Whether the executor held the chunk (it waited for futures
   * among its calls' arguments, or runs again): it must run even after
   * `shutdown()`.
   * @returns The future of the chunk's outcome.
   */
  protected runChunk(
    fn: Task,
    columns: unknown[][],
    _held = false,
    labels: readonly string[] = [],
  ): Future<ChunkOutcome> {
    const options = labels.length > 0 ? { labels } : undefined;
    const futures = columns[0].map((_, i) =>
      this.run(fn, columns.map((column) => column[i]) as never[], options)
    );
    const chunk = new Future<ChunkOutcome>();
    chunk.setRunningOrNotifyCancel();
    (async () => {
      const values: unknown[] = [];
      for (const future of futures) {
        try {
          values.push(await future.result());
        } catch (error) {
          for (const rest of futures) rest.cancel();
          return chunk.setResult({ values, error });
        }
      }
      chunk.setResult({ values });
    })();
    return chunk;
  }

  /**
   * Whether `labels` route this executor's tasks (a RedisExecutor); a local
   * pool rejects them.
   */
  protected get routesByLabel(): boolean {
    return false;
  }

  /**
   * Calls `fn` with one item of each iterable at a time (zipped, stopping at
   * the shortest) and yields the results in input order. A task's error is
   * thrown when its position is reached. Leaving the loop early cancels the
   * tasks not yet started.
   *
   * @typeParam A The task's parameters.
   * @typeParam R The task's return type.
   * @param fn The task.
   * @param inputs One iterable per parameter, then optionally
   * {@linkcode MapOptions}.
   * @returns The results, in input order.
   * @throws {TypeError} For an input that is not iterable, or a bad option.
   * @throws {RangeError} For a `chunksize`, `buffersize` or `timeout` out
   * of range.
   */
  map<A extends unknown[], R>(
    fn: Task<A, R>,
    ...inputs: NoInfer<[...MapInputs<A>] | [...MapInputs<A>, MapOptions]>
  ): AsyncIterableIterator<Awaited<R>> {
    const task = fn as Task;
    const route = { owner: this.constructor.name, routes: this.routesByLabel };
    return mapResults(
      (columns, chunksize, policy, labels) => {
        if (chunksize === 1) {
          const args = columns.map((column) => column[0]) as never[];
          const options = policy.retries > 0 || labels.length > 0
            ? { ...policy, labels }
            : undefined;
          return this.run(task, args, options);
        }
        if (policy.retries === 0 && !columnsHaveFuture(columns)) {
          return this.runChunk(task, columns, false, labels);
        }
        return heldChunk(
          (rest) => this.runChunk(task, rest, true, labels),
          columns,
          policy,
          deferredOf(this),
        );
      },
      inputs as unknown[],
      route,
    ) as AsyncIterableIterator<Awaited<R>>;
  }

  /**
   * `shutdown({ wait: true })`, for `await using`.
   *
   * @returns A promise that resolves once the executor is shut down.
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown({ wait: true });
  }
}
