// Runs on the main thread: the state of one `map` call. It reads the
// zipped inputs (map_inputs.ts), submits tasks (all at once, or at most
// `buffersize` ahead), and yields results in input order. Sync inputs are
// read on the caller's turn; async ones by a feeder running beside the
// consumer.
import { Future } from "../../future/future.ts";
import { TimeoutError } from "../../future/errors.ts";
import {
  checkCount,
  checkSignal,
  checkTimeout,
  describe,
  waitUntil,
} from "../../future/_util.ts";
import { isAsyncIterable, isIterable, MapInputs } from "./map_inputs.ts";
import { checkRetry, type RetryOptions, type RetryPolicy } from "./retry.ts";
import { checkLabels, type LabelOptions } from "./labels.ts";

/**
 * Options of {@linkcode Executor.map}, given as its last argument: those
 * below, and the retries of each call ({@linkcode RetryOptions}).
 */
export interface MapOptions extends RetryOptions, LabelOptions {
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

/** The outcome of a chunk of calls: its values, up to the first error. */
export interface ChunkOutcome {
  /** The values of the calls that succeeded, in order. */
  values: unknown[];
  /** The error of the call that failed, if one did (the rest did not run). */
  error?: unknown;
}

/**
 * Checks `map`'s arguments (iterables, then an optional options object)
 * and returns the iteration of its results.
 *
 * @param submit Submits one call, or a chunk of calls as one task, given
 * their arguments as columns (one array per parameter).
 * @param inputs The iterables, and optionally `MapOptions` last.
 * @param route The executor's class name, and whether it takes `labels`.
 * @throws {TypeError} For an input that is not iterable, or a bad option.
 * @throws {RangeError} For a `chunksize`, `buffersize` or `timeout` out of
 * range.
 */
export function mapResults(
  submit: (
    columns: unknown[][],
    chunksize: number,
    policy: RetryPolicy,
    labels: readonly string[],
  ) => Future<unknown>,
  inputs: unknown[],
  route: { owner: string; routes: boolean },
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
  const policy = checkRetry(options, "map");
  const labels = checkLabels(options.labels, route.owner, route.routes, "map");
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
    (columns) => submit(columns, chunksize, policy, labels),
    iterables as (Iterable<unknown> | AsyncIterable<unknown>)[],
    chunksize,
    buffersize,
    timeout,
    signal,
  );
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

// The state of one `map` call, and its iteration. The iterator is written
// by hand: the values of a settled chunk are handed out at once, which
// costs a third of an async generator's `yield`.
class MapRun<R> implements AsyncIterableIterator<R> {
  #submit: (columns: unknown[][]) => Future<unknown>;
  #chunksize: number;
  #buffersize: number;
  #deadline: number;
  #timeout: number | undefined;
  #signal: AbortSignal | undefined;
  // Submitted tasks whose results are not yet handed out, oldest first.
  #entries: Entry[] = [];
  readonly #inputs: MapInputs;
  // What an input threw (or a submit, from the feeder): thrown once the
  // tasks before it are handed out.
  #inputError: { error: unknown } | undefined;
  // Async inputs: the feeder is running, and whoever waits on it.
  #feeding = false;
  #changed: PromiseWithResolvers<void> | undefined;
  // The settled chunk's values, handed out from #readyAt on; then its error.
  #ready: unknown[] = [];
  #readyAt = 0;
  #chunkError: { error: unknown } | undefined;
  // A next() that waits for a task, which later calls queue behind.
  #waiting: Promise<unknown> | undefined;
  #finished = false;

  constructor(
    submit: (columns: unknown[][]) => Future<unknown>,
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
    this.#inputs = new MapInputs(iterables, () => this.#notify());
    if (this.#inputs.sync) {
      // Python's rule: without buffersize, every task is submitted now.
      try {
        this.#fillSync();
      } catch (error) {
        // Not a task, or shut down: thrown by the call to map, as in Python.
        this.#finish();
        throw error;
      }
    } else {
      this.#feeding = true;
      this.#feed();
    }
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<R> {
    return this;
  }

  next(): Promise<IteratorResult<R>> {
    if (this.#waiting === undefined && this.#readyAt < this.#ready.length) {
      return Promise.resolve({ value: this.#take(), done: false });
    }
    return this.#queue(() => this.#advance());
  }

  return(value?: unknown): Promise<IteratorResult<R>> {
    return this.#queue(() => {
      this.#finish();
      return Promise.resolve({ value: value as R, done: true });
    });
  }

  throw(error?: unknown): Promise<IteratorResult<R>> {
    return this.#queue(() => {
      this.#finish();
      return Promise.reject(error);
    });
  }

  // Runs `step` once every earlier waiting call is done. The marker is
  // cleared by the first reaction to the result, registered before the
  // caller's own, so the caller's next call already takes the fast path.
  #queue(
    step: () => Promise<IteratorResult<R>>,
  ): Promise<IteratorResult<R>> {
    const before = this.#waiting;
    const result = before === undefined
      ? step()
      : before.then(step, step) as Promise<IteratorResult<R>>;
    this.#waiting = result;
    const clear = () => {
      if (this.#waiting === result) this.#waiting = undefined;
    };
    result.then(clear, clear);
    return result;
  }

  #take(): R {
    const value = this.#ready[this.#readyAt];
    this.#ready[this.#readyAt++] = undefined;
    return value as R;
  }

  // The next value once its task is done, in input order; a task's error
  // at its position; done once the inputs and tasks are.
  async #advance(): Promise<IteratorResult<R>> {
    try {
      while (this.#readyAt >= this.#ready.length) {
        if (this.#finished) return { value: undefined, done: true };
        if (this.#chunkError !== undefined) throw this.#chunkError.error;
        if (!this.#feeding) this.#fillSync();
        while (this.#entries.length === 0 && this.#feeding) {
          await this.#bounded(this.#nextChange());
        }
        const entry = this.#entries[0];
        if (entry === undefined) {
          if (this.#inputError !== undefined) throw this.#inputError.error;
          this.#finish();
          return { value: undefined, done: true };
        }
        const value = await this.#bounded(entry.future);
        this.#entries.shift();
        this.#notify();
        if (!entry.chunk) return { value: value as R, done: false };
        const outcome = value as ChunkOutcome;
        this.#ready = outcome.values;
        this.#readyAt = 0;
        if ("error" in outcome) this.#chunkError = { error: outcome.error };
      }
      return { value: this.#take(), done: false };
    } catch (error) {
      this.#finish();
      throw error;
    }
  }

  // Ends the iteration: closes the inputs, cancels the tasks not started.
  #finish(): void {
    this.#finished = true;
    this.#ready = [];
    this.#readyAt = 0;
    this.#chunkError = undefined;
    this.#inputs.close();
    for (const entry of this.#entries) entry.future.cancel();
    this.#entries.length = 0;
  }

  // Reads and submits synchronously, up to buffersize in flight. An input
  // that throws ends the inputs; a submit that throws is thrown.
  #fillSync(): void {
    const inputs = this.#inputs;
    while (inputs.open && this.#entries.length < this.#buffersize) {
      const columns = inputs.columns();
      try {
        inputs.readSync(columns, this.#chunksize);
      } catch (error) {
        this.#inputError = { error };
        inputs.close();
      }
      if (columns[0].length > 0) this.#add(columns);
    }
  }

  // Reads async inputs as they come, at most buffersize tasks ahead.
  async #feed(): Promise<void> {
    const inputs = this.#inputs;
    try {
      while (inputs.open) {
        if (this.#entries.length >= this.#buffersize) {
          await this.#nextChange();
          continue;
        }
        const columns = inputs.columns();
        await inputs.read(columns, this.#chunksize);
        if (columns[0].length > 0) this.#add(columns);
      }
    } catch (error) {
      this.#inputError = { error };
      inputs.close();
    } finally {
      this.#feeding = false;
      this.#notify();
    }
  }

  #add(columns: unknown[][]): void {
    this.#entries.push({
      future: this.#submit(columns),
      chunk: this.#chunksize > 1,
    });
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
