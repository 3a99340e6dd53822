/**
 * `Future`: the eventual result of a task, with Python's state machine.
 *
 * @module
 */
import { CancelledError, InvalidStateError, TimeoutError } from "./errors.ts";
import { checkSignal, checkTimeout, waitUntil } from "./_util.ts";
import { type Outcome, setOutcomeReader } from "./_outcome.ts";
import { LazyValue } from "./_lazy.ts";

/**
 * Where a future is in its life: `"pending"` (waiting to run), `"running"`,
 * `"cancelled"` or `"finished"` (with a value or an error).
 */
export type FutureState = "pending" | "running" | "cancelled" | "finished";

/** Options of {@linkcode Future.result} and {@linkcode Future.exception}. */
export interface FutureWaitOptions {
  /**
   * Milliseconds to wait before rejecting with `TimeoutError`; the future
   * itself is left untouched.
   *
   * @default {Infinity}
   */
  timeout?: number;
  /** Stops waiting with `signal.reason`; the future itself is left untouched. */
  signal?: AbortSignal;
}

/** A function called once with the future when it is done. */
export type DoneCallback<T> = (future: Future<T>) => void;

/**
 * A function called with each progress value a running task reports
 * (`reportProgress`), in the order sent, all before the future is done.
 */
export type ProgressCallback<T> = (value: unknown, future: Future<T>) => void;

// The property that makes a future uncloneable, and the function it holds
// (its name is what a clone error shows).
const UNCLONEABLE = "@concurrent/futures:Future";
function passFuturesAsTopLevelArguments(): void {}

/**
 * The eventual result of a task, as Python's `concurrent.futures.Future`.
 *
 * A future is deliberately not a thenable (so an async generator can yield
 * it and a `Map` can use it as a key): `await future.result()` is the way to
 * get its value. A future that fails and is never observed causes no
 * unhandled rejection.
 *
 * @typeParam T The type of the value.
 *
 * @example Settle a future by hand
 * ```ts
 * import { Future } from "@concurrent/futures";
 * import assert from "node:assert/strict";
 *
 * const future = new Future<string>();
 * assert.equal(future.done(), false);
 * setTimeout(() => future.setResult("hello"), 10);
 * assert.equal(await future.result(), "hello");
 * assert.equal(future.done(), true);
 * ```
 */
export class Future<T> {
  // Invariant: #state is "finished" iff #outcome is set.
  #state: FutureState = "pending";
  // The value or the error, once finished.
  #outcome: Outcome<T> | undefined;
  // Callbacks waiting for done: none, one (no array: most futures have at
  // most one), or a list; cleared when they run. (Typed loosely so that
  // Future<T> stays covariant: a Future<number> is a Future<unknown>.)
  #callbacks: DoneCallback<never> | DoneCallback<never>[] | undefined;
  // Callbacks for progress values; undefined until one is added.
  #progress: ProgressCallback<never>[] | undefined;
  // Made only when someone awaits before done, so an unobserved failure
  // rejects no promise.
  #waiters: PromiseWithResolvers<unknown> | undefined;

  static {
    setOutcomeReader((future) => (future as Future<unknown>).#outcome);
  }

  /** Makes a pending future (for tests, and executors of one's own). */
  constructor() {
    // A future cannot be cloned: one nested inside a task's argument must
    // fail its submit (futures are top-level arguments) rather than arrive
    // as `{}`. An own property holding a function makes every structured
    // clone, and node:v8, refuse the object.
    (this as unknown as Record<string, unknown>)[UNCLONEABLE] =
      passFuturesAsTopLevelArguments;
  }

  /** How `console.log` shows it: its state. */
  [Symbol.for("Deno.customInspect")](): string {
    return `Future { ${this.#state} }`;
  }

  /** Where the future is in its life. */
  get state(): FutureState {
    return this.#state;
  }

  /**
   * Cancels a pending future.
   *
   * @returns `true` if the future is now cancelled (also when it already
   * was); `false` if it is running or finished.
   */
  cancel(): boolean {
    if (this.#state === "cancelled") return true;
    if (this.#state !== "pending") return false;
    this.#state = "cancelled";
    this.#waiters?.reject(new CancelledError());
    this.#runCallbacks();
    return true;
  }

  /**
   * Whether the future was cancelled.
   *
   * @returns `true` once cancelled.
   */
  cancelled(): boolean {
    return this.#state === "cancelled";
  }

  /**
   * Whether the future's task is running.
   *
   * @returns `true` while running.
   */
  running(): boolean {
    return this.#state === "running";
  }

  /**
   * Whether the future is done: finished (with a value or an error) or
   * cancelled.
   *
   * @returns `true` once done.
   */
  done(): boolean {
    return this.#state === "finished" || this.#state === "cancelled";
  }

  /**
   * Waits for the value.
   *
   * @param options `timeout` (ms) and `signal` bound the wait, not the task.
   * @returns The value.
   * @throws The task's error; `CancelledError` if cancelled; `TimeoutError`
   * past `timeout`; `signal.reason` when the signal aborts.
   */
  result(options?: FutureWaitOptions): Promise<T> {
    if (options === undefined) return this.#promise();
    return this.#waitDone(options, "wait for the future's result").then(() =>
      this.#promise()
    );
  }

  /**
   * Waits for the task's error.
   *
   * @param options `timeout` (ms) and `signal` bound the wait, not the task.
   * @returns The error, or `undefined` if the task succeeded.
   * @throws `CancelledError` if cancelled; `TimeoutError` past `timeout`;
   * `signal.reason` when the signal aborts.
   */
  async exception(options: FutureWaitOptions = {}): Promise<unknown> {
    await this.#waitDone(options, "wait for the future's exception");
    if (this.#state === "cancelled") throw new CancelledError();
    const outcome = this.#outcome!;
    return outcome.ok ? undefined : outcome.error;
  }

  /**
   * Calls `fn(future)` once the future is done; at once if it already is.
   * A callback that throws is reported with `console.error` and breaks
   * nothing else.
   *
   * @param fn The callback.
   */
  addDoneCallback(fn: DoneCallback<T>): void {
    if (typeof fn !== "function") {
      throw new TypeError(
        "Cannot add done callback as 'fn' must be a function",
      );
    }
    if (this.done()) this.#call(fn as DoneCallback<never>);
    else this.#addCallback(fn as DoneCallback<never>);
  }

  /**
   * Calls `fn(value, future)` with each progress value the task reports
   * from inside (`reportProgress(value)`), in the order sent; none comes
   * once the future is done. Values are coalesced: a task that reports in a
   * tight loop is seen a few times a second, and its last value always
   * arrives. A callback that throws is reported with `console.error`.
   *
   * @param fn The callback.
   *
   * @example Follow a task's progress
   * ```ts
   * import { reportProgress, ThreadPoolExecutor } from "@concurrent/futures";
   * import assert from "node:assert/strict";
   *
   * await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
   * const future = pool.submit(() => {
   *   for (let i = 1; i <= 100; i++) reportProgress(i / 100);
   *   return "done";
   * });
   * const seen: unknown[] = [];
   * future.addProgressCallback((value) => seen.push(value));
   * assert.equal(await future.result(), "done");
   * assert.equal(seen.at(-1), 1);
   * ```
   */
  addProgressCallback(fn: ProgressCallback<T>): void {
    if (typeof fn !== "function") {
      throw new TypeError(
        "Cannot add progress callback as 'fn' must be a function",
      );
    }
    if (this.done()) return;
    (this.#progress ??= []).push(fn as ProgressCallback<never>);
  }

  // For executor implementations.

  /**
   * Delivers a progress value of the running task to the progress
   * callbacks. For executors. Ignored once the future is done: no progress
   * comes after the outcome.
   *
   * @param value The value the task reported.
   */
  setProgress(value: unknown): void {
    const callbacks = this.#progress;
    if (callbacks === undefined || this.done()) return;
    for (const fn of callbacks) {
      try {
        (fn as ProgressCallback<T>)(value, this);
      } catch (error) {
        console.error("Future progress callback threw:", error);
      }
    }
  }

  /**
   * Marks a pending future as running. For executors.
   *
   * @returns `true` if it is now running; `false` if it was cancelled.
   * @throws {InvalidStateError} If it is already running or finished.
   */
  setRunningOrNotifyCancel(): boolean {
    if (this.#state === "pending") {
      this.#state = "running";
      return true;
    }
    if (this.#state === "cancelled") return false;
    throw new InvalidStateError(
      `Cannot mark the future running as it is ${this.#state}`,
    );
  }

  /**
   * Finishes the future with a value. For executors.
   *
   * @param value The value.
   * @throws {InvalidStateError} If the future is already done.
   */
  setResult(value: T): void {
    this.#finish({ ok: true, value });
    // A value kept elsewhere is read once someone waits for it.
    this.#waiters?.resolve(
      value instanceof LazyValue ? value.value() as Promise<T> : value,
    );
    this.#runCallbacks();
  }

  /**
   * Finishes the future with an error. For executors.
   *
   * @param error The error.
   * @throws {InvalidStateError} If the future is already done.
   */
  setException(error: unknown): void {
    this.#finish({ ok: false, error });
    this.#waiters?.reject(error);
    this.#runCallbacks();
  }

  #finish(outcome: Outcome<T>): void {
    if (this.done()) {
      throw new InvalidStateError(
        `Cannot set the outcome of the future as it is ${this.#state}`,
      );
    }
    this.#state = "finished";
    this.#outcome = outcome;
  }

  #promise(): Promise<T> {
    if (this.#state === "cancelled") {
      return Promise.reject(new CancelledError());
    }
    const outcome = this.#outcome;
    if (outcome !== undefined) {
      if (!outcome.ok) return Promise.reject(outcome.error);
      const value = outcome.value;
      return value instanceof LazyValue
        ? value.value() as Promise<T>
        : Promise.resolve(value);
    }
    this.#waiters ??= Promise.withResolvers<unknown>();
    return this.#waiters.promise as Promise<T>;
  }

  #waitDone(options: FutureWaitOptions, action: string): Promise<void> {
    const { timeout, signal } = options;
    checkTimeout(timeout, action);
    checkSignal(signal, action);
    if (this.done()) return Promise.resolve();
    return waitUntil((wake) => {
      const onDone = wake as DoneCallback<never>;
      this.#addCallback(onDone);
      // A wait that gave up leaves no callback behind on the future.
      return () => this.#removeCallback(onDone);
    }, {
      timeout,
      signal,
      timedOut: () =>
        new TimeoutError(
          `Future not done within ${timeout} ms: it is ${this.#state}`,
        ),
    });
  }

  #addCallback(fn: DoneCallback<never>): void {
    const callbacks = this.#callbacks;
    if (callbacks === undefined) this.#callbacks = fn;
    else if (typeof callbacks === "function") this.#callbacks = [callbacks, fn];
    else callbacks.push(fn);
  }

  #removeCallback(fn: DoneCallback<never>): void {
    const callbacks = this.#callbacks;
    if (callbacks === fn) this.#callbacks = undefined;
    else if (Array.isArray(callbacks)) {
      const i = callbacks.indexOf(fn);
      if (i >= 0) callbacks.splice(i, 1);
    }
  }

  #runCallbacks(): void {
    const callbacks = this.#callbacks;
    this.#callbacks = undefined;
    this.#progress = undefined;
    if (typeof callbacks === "function") this.#call(callbacks);
    else if (callbacks !== undefined) {
      for (const fn of callbacks) this.#call(fn);
    }
  }

  #call(fn: DoneCallback<never>): void {
    try {
      (fn as DoneCallback<T>)(this);
    } catch (error) {
      console.error("Future done callback threw:", error);
    }
  }
}
