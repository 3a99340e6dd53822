/**
 * `Executor`: the abstract base of every executor. `map` and
 * `Symbol.asyncDispose` are built here on top of `run` and `shutdown`.
 *
 * @module
 */
import { Future } from "../future/future.ts";
import { TimeoutError } from "../future/errors.ts";
import { checkSignal, checkTimeout, describe } from "../future/_util.ts";
import type { TaskRef } from "./from_module.ts";

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

/** Per-task options of {@linkcode Executor.run}. */
export interface RunOptions {
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

/** Options of {@linkcode Executor.map}, given as its last argument. */
export interface MapOptions {
  /**
   * Milliseconds from the call to `map`: when it passes, the iteration
   * throws `TimeoutError` and the tasks not yet started are cancelled.
   *
   * @default {Infinity}
   */
  timeout?: number;
  /**
   * Calls sent to a worker as one task; larger is faster for tiny tasks.
   *
   * @default {1}
   */
  chunksize?: number;
  /**
   * At most this many tasks in flight; inputs are then read lazily.
   * Without it every task is submitted at the call (Python's rule).
   *
   * @default {Infinity}
   */
  buffersize?: number;
  /** Aborting ends the iteration with `signal.reason` and cancels the rest. */
  signal?: AbortSignal;
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
 * parameter of the task.
 *
 * @typeParam A The task's parameters.
 */
export type MapInputs<A extends unknown[]> = {
  [K in keyof A]: Iterable<A[K]> | AsyncIterable<A[K]>;
};

/** The outcome of a chunk of calls: its values, up to the first error. */
export interface ChunkOutcome {
  /** The values of the calls that succeeded, in order. */
  values: unknown[];
  /** The error of the call that failed, if one did (the rest did not run). */
  error?: unknown;
}

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
   * Schedules `fn(...args)` and returns its future.
   *
   * @typeParam A The task's parameters.
   * @typeParam R The task's return type.
   * @param fn The task.
   * @param args Its arguments.
   * @returns The task's future.
   * @throws {ShutdownError} After `shutdown()`.
   * @throws {BrokenExecutorError} When the executor is broken.
   * @throws {TypeError} For something that is not a task.
   */
  submit<A extends unknown[], R>(
    fn: Task<A, R>,
    ...args: A
  ): Future<Awaited<R>> {
    return this.run(fn, args);
  }

  /**
   * Schedules `fn(...args)` with per-task options and returns its future.
   *
   * @typeParam A The task's parameters.
   * @typeParam R The task's return type.
   * @param fn The task.
   * @param args Its arguments.
   * @param options `timeout`, `signal` and `transfer`.
   * @returns The task's future.
   */
  abstract run<A extends unknown[], R>(
    fn: Task<A, R>,
    args: A,
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
   * @param calls One argument list per call.
   * @returns The future of the chunk's outcome.
   */
  protected runChunk(fn: Task, calls: unknown[][]): Future<ChunkOutcome> {
    const futures = calls.map((args) => this.run(fn, args as never[]));
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
    ...inputs: [...MapInputs<A>] | [...MapInputs<A>, MapOptions]
  ): AsyncIterableIterator<Awaited<R>> {
    const iterables = inputs as unknown[];
    const last = iterables.at(-1);
    const options: MapOptions = isOptions(last)
      ? (iterables.pop() as MapOptions)
      : {};
    const { timeout, chunksize = 1, buffersize = Infinity, signal } = options;
    checkTimeout(timeout, "map");
    checkSignal(signal, "map");
    checkCount(chunksize, "chunksize");
    checkCount(buffersize, "buffersize");
    if (iterables.length === 0) {
      throw new TypeError("Cannot map as no iterable was given");
    }
    iterables.forEach((iterable, i) => {
      if (!isIterable(iterable) && !isAsyncIterable(iterable)) {
        throw new TypeError(
          `Cannot map as 'iterables[${i}]' must be iterable: current value is ${
            describe(iterable)
          }`,
        );
      }
    });
    return new MapRun<Awaited<R>>(
      (calls) =>
        calls.length === 1 && chunksize === 1
          ? this.run(fn as Task, calls[0] as never[])
          : this.runChunk(fn as Task, calls),
      iterables as (Iterable<unknown> | AsyncIterable<unknown>)[],
      chunksize,
      buffersize,
      timeout,
      signal,
    ).results();
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

function isIterable(value: unknown): value is Iterable<unknown> {
  return value != null &&
    typeof (value as Iterable<unknown>)[Symbol.iterator] === "function";
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return value != null &&
    typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] ===
      "function";
}

function isOptions(value: unknown): boolean {
  if (value === null || typeof value !== "object") return false;
  if (isIterable(value) || isAsyncIterable(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function checkCount(value: unknown, option: string): void {
  if (typeof value !== "number") {
    throw new TypeError(
      `Cannot map as '${option}' must be a number: current value is ${
        describe(value)
      }`,
    );
  }
  if (!(value >= 1) || (value !== Infinity && !Number.isInteger(value))) {
    throw new RangeError(
      `Cannot map as '${option}' must be an integer >= 1: current value is ${value}`,
    );
  }
}

// One submitted task of a map: a single call or a chunk of calls.
interface Entry {
  future: Future<unknown>;
  chunk: boolean;
}

// The state of one `map` call: reads the zipped inputs, submits tasks (all
// at once, or at most `buffersize` ahead), and yields results in order.
// Sync inputs are read on the caller's turn; async ones by a feeder running
// beside the consumer.
class MapRun<R> {
  #submit: (calls: unknown[][]) => Future<unknown>;
  #chunksize: number;
  #buffersize: number;
  #deadline: number;
  #timeout: number | undefined;
  #signal: AbortSignal | undefined;
  // Submitted tasks whose results are not yet yielded, oldest first.
  #entries: Entry[] = [];
  // Readers of the inputs; undefined once exhausted or closed.
  #readers: (Iterator<unknown> | AsyncIterator<unknown>)[] | undefined;
  #inputError: { error: unknown } | undefined;
  // Async inputs: the feeder is running, and whoever waits on it.
  #feeding = false;
  #changed: PromiseWithResolvers<void> | undefined;

  constructor(
    submit: (calls: unknown[][]) => Future<unknown>,
    iterables: (Iterable<unknown> | AsyncIterable<unknown>)[],
    chunksize: number,
    buffersize: number,
    timeout: number | undefined,
    signal: AbortSignal | undefined,
  ) {
    this.#submit = submit;
    this.#chunksize = chunksize;
    this.#buffersize = buffersize;
    this.#timeout = timeout;
    this.#deadline = timeout === undefined
      ? Infinity
      : performance.now() + timeout;
    this.#signal = signal;
    this.#readers = iterables.map((iterable) =>
      isIterable(iterable)
        ? iterable[Symbol.iterator]()
        : iterable[Symbol.asyncIterator]()
    );
    if (iterables.every(isIterable)) {
      // Python's rule: without buffersize, every task is submitted now.
      try {
        this.#fillSync();
      } catch (error) {
        // Not a task, or shut down: thrown by the call to map, as in Python.
        this.#close();
        for (const entry of this.#entries) entry.future.cancel();
        throw error;
      }
    } else {
      this.#feeding = true;
      this.#feed();
    }
  }

  // Reads and submits synchronously, up to buffersize in flight. An input
  // that throws ends the inputs; a submit that throws is thrown.
  #fillSync(): void {
    while (
      this.#readers !== undefined &&
      this.#entries.length < this.#buffersize
    ) {
      const calls: unknown[][] = [];
      try {
        while (calls.length < this.#chunksize) {
          const args = this.#nextSync();
          if (args === undefined) break;
          calls.push(args);
        }
      } catch (error) {
        this.#inputError = { error };
        this.#close();
      }
      if (calls.length > 0) this.#add(calls);
    }
  }

  #nextSync(): unknown[] | undefined {
    const args: unknown[] = [];
    for (const reader of this.#readers!) {
      const step = (reader as Iterator<unknown>).next();
      if (step.done) {
        this.#close();
        return undefined;
      }
      args.push(step.value);
    }
    return args;
  }

  // Reads async inputs as they come, at most buffersize tasks ahead.
  async #feed(): Promise<void> {
    try {
      while (this.#readers !== undefined) {
        while (
          this.#entries.length >= this.#buffersize &&
          this.#readers !== undefined
        ) {
          await this.#nextChange();
        }
        const calls: unknown[][] = [];
        while (calls.length < this.#chunksize && this.#readers !== undefined) {
          const args = await this.#nextAsync();
          if (args === undefined) break;
          calls.push(args);
        }
        if (calls.length > 0) this.#add(calls);
      }
    } catch (error) {
      this.#inputError = { error };
      this.#close();
    } finally {
      this.#feeding = false;
      this.#notify();
    }
  }

  async #nextAsync(): Promise<unknown[] | undefined> {
    const readers = this.#readers!;
    const steps = await Promise.all(readers.map((reader) => reader.next()));
    if (steps.some((step) => step.done)) {
      this.#close();
      return undefined;
    }
    return steps.map((step) => step.value);
  }

  #add(calls: unknown[][]): void {
    const chunk = calls.length > 1 || this.#chunksize > 1;
    this.#entries.push({ future: this.#submit(calls), chunk });
    this.#notify();
  }

  #notify(): void {
    this.#changed?.resolve();
    this.#changed = undefined;
  }

  #nextChange(): Promise<void> {
    this.#changed ??= Promise.withResolvers<void>();
    return this.#changed.promise;
  }

  // Stops reading the inputs, closing the ones not exhausted.
  #close(): void {
    const readers = this.#readers;
    this.#readers = undefined;
    for (const reader of readers ?? []) {
      try {
        const done = reader.return?.();
        if (done instanceof Promise) done.catch(() => {});
      } catch {
        // An input that fails to close has nothing more to give.
      }
    }
    this.#notify();
  }

  async *results(): AsyncGenerator<R> {
    try {
      while (true) {
        if (!this.#feeding) this.#fillSync();
        while (this.#entries.length === 0 && this.#feeding) {
          await this.#bounded(this.#nextChange());
        }
        const entry = this.#entries[0];
        if (entry === undefined) {
          if (this.#inputError !== undefined) throw this.#inputError.error;
          return;
        }
        const value = await this.#bounded(entry.future);
        this.#entries.shift();
        this.#notify();
        if (!entry.chunk) {
          yield value as R;
          continue;
        }
        const outcome = value as ChunkOutcome;
        for (const item of outcome.values) yield item as R;
        if ("error" in outcome) throw outcome.error;
      }
    } finally {
      this.#close();
      for (const entry of this.#entries) entry.future.cancel();
      this.#entries.length = 0;
    }
  }

  // Waits for a future's result, or for the feeder, within the map's
  // deadline and signal.
  #bounded(awaited: Future<unknown> | Promise<void>): Promise<unknown> {
    const future = awaited instanceof Future ? awaited : undefined;
    if (this.#deadline === Infinity && this.#signal === undefined) {
      return future?.result() ?? awaited as Promise<void>;
    }
    const left = Math.max(0, this.#deadline - performance.now());
    const waiting = future ?? new Future<void>();
    if (future === undefined) {
      (awaited as Promise<void>).then(() => waiting.setResult(undefined));
    }
    return waiting.result({
      timeout: left === Infinity ? undefined : left,
      signal: this.#signal,
    }).catch((error) => {
      if (error instanceof TimeoutError && !waiting.done()) {
        throw new TimeoutError(
          `map timed out after ${this.#timeout} ms with ${this.#entries.length} tasks unfinished`,
        );
      }
      throw error;
    });
  }
}
