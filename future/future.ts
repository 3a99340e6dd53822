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

// A future's listener: a done callback, or a progress callback wrapped.
type Listener = DoneCallback<never> | Progress;

// A progress callback among a future's done callbacks.
class Progress {
  constructor(readonly fn: ProgressCallback<never>) {}
}

// A thenable that rejects the promise it resolves: how a future fails the
// promise it handed out through its one resolve function (the promise
// rejects two microtasks later than a reject call would).
// A value kept elsewhere (a RedisExecutor's large result) is read once
// someone waits for it: its promise stands in for it.
function valueOf(value: unknown): unknown {
  return value instanceof LazyValue ? value.value() : value;
}

class Failure {
  constructor(readonly error: unknown) {}
  then(_: unknown, reject: (error: unknown) => void): void {
    reject(this.error);
  }
}

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
  // "pending", "running" or "cancelled"; once finished, the outcome (the
  // value or the error). One field for both, as every queued task keeps
  // its future.
  #state: "pending" | "running" | "cancelled" | Outcome<T> = "pending";
  // Done callbacks (functions) and progress callbacks (wrapped in a
  // `Progress`), in the order added: none, one (no array: most futures have
  // at most one), or a list; cleared when the future is done. (Typed
  // loosely so that Future<T> stays covariant: a Future<number> is a
  // Future<unknown>.)
  #callbacks: Listener | Listener[] | undefined;
  // The promise result() hands out: one per future, made on the first
  // call, so an unobserved failure rejects no promise.
  #promise: Promise<T> | undefined;
  // Settles #promise while the future is not done. Only the resolve
  // function is kept, not reject and a resolvers object (~100 bytes less a
  // waiting future): a failure resolves it with a `Failure`, a thenable
  // that rejects it.
  #resolve: ((value: unknown) => void) | undefined;

  static {
    setOutcomeReader((future) => {
      const state = (future as Future<unknown>).#state;
      return typeof state === "string" ? undefined : state;
    });
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
    return `Future { ${this.state} }`;
  }

  /** Where the future is in its life. */
  get state(): FutureState {
    const state = this.#state;
    return typeof state === "string" ? state : "finished";
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
    Future.#settle(this);
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
    const state = this.#state;
    return typeof state !== "string" || state === "cancelled";
  }

  /**
   * Waits for the value. Without options it returns the same promise each
   * call.
   *
   * @param options `timeout` (ms) and `signal` bound the wait, not the task.
   * @returns The value.
   * @throws The task's error; `CancelledError` if cancelled; `TimeoutError`
   * past `timeout`; `signal.reason` when the signal aborts.
   */
  result(options?: FutureWaitOptions): Promise<T> {
    if (options === undefined) return Future.#promiseOf(this);
    return Future.#waitDone(this, options, "wait for the future's result")
      .then(() => Future.#promiseOf(this));
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
    await Future.#waitDone(this, options, "wait for the future's exception");
    const state = this.#state;
    if (typeof state === "string") throw new CancelledError();
    return state.ok ? undefined : state.error;
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
    if (this.done()) call(fn as DoneCallback<never>, this);
    else Future.#addCallback(this, fn as DoneCallback<never>);
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
    Future.#addCallback(this, new Progress(fn as ProgressCallback<never>));
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
    const callbacks = this.#callbacks;
    // Done callbacks alone (or none): no progress callback to call.
    if (callbacks === undefined || typeof callbacks === "function") return;
    for (const listener of Array.isArray(callbacks) ? callbacks : [callbacks]) {
      if (typeof listener === "function") continue;
      try {
        (listener.fn as ProgressCallback<T>)(value, this);
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
      `Cannot mark the future running as it is ${this.state}`,
    );
  }

  /**
   * Finishes the future with a value. For executors.
   *
   * @param value The value.
   * @throws {InvalidStateError} If the future is already done.
   */
  setResult(value: T): void {
    Future.#finish(this, { ok: true, value });
    Future.#settle(this);
  }

  /**
   * Finishes the future with an error. For executors.
   *
   * @param error The error.
   * @throws {InvalidStateError} If the future is already done.
   */
  setException(error: unknown): void {
    Future.#finish(this, { ok: false, error });
    Future.#settle(this);
  }

  // The helpers below are static (`Future.#settle(future)`): an instance
  // private method would cost every future a slot (V8 marks each instance
  // of a class that has one), and a million may wait in a queue.

  // Finishes it, or throws if it is done.
  static #finish<T>(future: Future<T>, outcome: Outcome<T>): void {
    if (future.done()) {
      throw new InvalidStateError(
        `Cannot set the outcome of the future as it is ${future.state}`,
      );
    }
    future.#state = outcome;
  }

  // Done: settles the promise handed out, if any, then the callbacks.
  static #settle(future: Future<unknown>): void {
    const resolve = future.#resolve;
    if (resolve !== undefined) {
      future.#resolve = undefined;
      const state = future.#state;
      if (typeof state === "string") resolve(new Failure(new CancelledError()));
      else resolve(state.ok ? valueOf(state.value) : new Failure(state.error));
    }
    const callbacks = future.#callbacks;
    future.#callbacks = undefined;
    if (typeof callbacks === "function") call(callbacks, future);
    else if (Array.isArray(callbacks)) {
      for (const fn of callbacks) {
        if (typeof fn === "function") call(fn, future);
      }
    }
  }

  // The promise result() hands out, made once.
  static #promiseOf<T>(future: Future<T>): Promise<T> {
    if (future.#promise !== undefined) return future.#promise;
    const state = future.#state;
    if (state === "cancelled") {
      return future.#promise = Promise.reject(new CancelledError());
    }
    if (typeof state === "object") {
      return future.#promise = state.ok
        ? Promise.resolve(valueOf(state.value) as T)
        : Promise.reject(state.error);
    }
    return future.#promise = new Promise<T>((resolve) =>
      future.#resolve = resolve as (value: unknown) => void
    );
  }

  static #waitDone(
    future: Future<unknown>,
    options: FutureWaitOptions,
    action: string,
  ): Promise<void> {
    const { timeout, signal } = options;
    checkTimeout(timeout, action);
    checkSignal(signal, action);
    if (future.done()) return Promise.resolve();
    return waitUntil((wake) => {
      const onDone = wake as DoneCallback<never>;
      Future.#addCallback(future, onDone);
      // A wait that gave up leaves no callback behind on the future.
      return () => Future.#removeCallback(future, onDone);
    }, {
      timeout,
      signal,
      timedOut: () =>
        new TimeoutError(
          `Future not done within ${timeout} ms: it is ${future.state}`,
        ),
    });
  }

  static #addCallback(future: Future<unknown>, fn: Listener): void {
    const callbacks = future.#callbacks;
    if (callbacks === undefined) future.#callbacks = fn;
    else if (Array.isArray(callbacks)) callbacks.push(fn);
    else future.#callbacks = [callbacks, fn];
  }

  static #removeCallback(
    future: Future<unknown>,
    fn: DoneCallback<never>,
  ): void {
    const callbacks = future.#callbacks;
    if (callbacks === fn) future.#callbacks = undefined;
    else if (Array.isArray(callbacks)) {
      const i = callbacks.indexOf(fn);
      if (i >= 0) callbacks.splice(i, 1);
    }
  }
}

// Calls a done callback; one that throws is reported and breaks nothing.
function call(fn: DoneCallback<never>, future: Future<unknown>): void {
  try {
    (fn as DoneCallback<unknown>)(future);
  } catch (error) {
    console.error("Future done callback threw:", error);
  }
}
