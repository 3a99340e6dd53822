// The state of one `map` call: reads the zipped inputs, submits tasks (all
// at once, or at most `buffersize` ahead), and yields results in input
// order. Sync inputs are read on the caller's turn; async ones by a feeder
// running beside the consumer.
import { Future } from "../future/future.ts";
import { TimeoutError } from "../future/errors.ts";
import {
  checkCount,
  checkSignal,
  checkTimeout,
  describe,
  waitUntil,
} from "../future/_util.ts";
import type { ChunkOutcome, MapOptions } from "./executor.ts";

/**
 * Checks `map`'s arguments (iterables, then an optional options object)
 * and returns the iteration of its results.
 *
 * @param submit Submits one call, or a chunk of calls as one task.
 * @param inputs The iterables, and optionally `MapOptions` last.
 * @throws {TypeError} For an input that is not iterable, or a bad option.
 * @throws {RangeError} For a `chunksize`, `buffersize` or `timeout` out of
 * range.
 */
export function mapResults(
  submit: (calls: unknown[][], chunksize: number) => Future<unknown>,
  inputs: unknown[],
): AsyncIterableIterator<unknown> {
  const iterables = [...inputs];
  const options: MapOptions = isOptions(iterables.at(-1))
    ? (iterables.pop() as MapOptions)
    : {};
  const { timeout, chunksize = 1, buffersize = Infinity, signal } = options;
  checkTimeout(timeout, "map");
  checkSignal(signal, "map");
  checkCount(chunksize, "map", "chunksize", true);
  checkCount(buffersize, "map", "buffersize", true);
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
  return new MapRun<unknown>(
    (calls) => submit(calls, chunksize),
    iterables as (Iterable<unknown> | AsyncIterable<unknown>)[],
    chunksize,
    buffersize,
    timeout,
    signal,
  ).results();
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

// One submitted task of a map: a single call or a chunk of calls.
interface Entry {
  future: Future<unknown>;
  chunk: boolean;
}

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
    if (this.#deadline === Infinity && this.#signal === undefined) {
      return awaited instanceof Future ? awaited.result() : awaited;
    }
    const left = Math.max(0, this.#deadline - performance.now());
    const bounds = {
      timeout: left === Infinity ? undefined : left,
      signal: this.#signal,
    };
    const timedOut = () =>
      new TimeoutError(
        `map timed out after ${this.#timeout} ms with ${this.#entries.length} tasks unfinished`,
      );
    if (!(awaited instanceof Future)) {
      return waitUntil((wake) => {
        awaited.then(wake);
      }, { ...bounds, timedOut });
    }
    return awaited.result(bounds).catch((error) => {
      // The wait's timeout, not a task's own TimeoutError.
      if (error instanceof TimeoutError && !awaited.done()) throw timedOut();
      throw error;
    });
  }
}
