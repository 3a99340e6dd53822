/**
 * The error classes of `@concurrent/futures`. Each one `extends Error`, has a
 * `name` equal to its class name and keeps the `cause` it was given, so
 * `instanceof` and `error.name` both tell them apart.
 *
 * @module
 */

/**
 * The future was cancelled: `result()` and `exception()` of a cancelled future
 * reject with it.
 *
 * @example Awaiting a cancelled future
 * ```ts
 * import { CancelledError, Future } from "@concurrent/futures";
 * import assert from "node:assert/strict";
 *
 * const future = new Future<number>();
 * future.cancel();
 * await assert.rejects(future.result(), CancelledError);
 * ```
 */
export class CancelledError extends Error {
  /**
   * Makes a `CancelledError`.
   *
   * @param message What was cancelled.
   * @param options `cause`, as for `Error`.
   */
  constructor(message = "The future was cancelled", options?: ErrorOptions) {
    super(message, options);
    this.name = "CancelledError";
  }
}

/**
 * A wait ran past its `timeout`. The thing waited for is left as it was,
 * unless the timeout was a task's own (`run(fn, args, { timeout })`).
 *
 * @example A result that does not come in time
 * ```ts
 * import { Future, TimeoutError } from "@concurrent/futures";
 * import assert from "node:assert/strict";
 *
 * const future = new Future<number>();
 * await assert.rejects(future.result({ timeout: 1 }), TimeoutError);
 * assert.equal(future.state, "pending");
 * ```
 */
export class TimeoutError extends Error {
  /**
   * Makes a `TimeoutError`.
   *
   * @param message What timed out, and the state it left.
   * @param options `cause`, as for `Error`.
   */
  constructor(message = "The operation timed out", options?: ErrorOptions) {
    super(message, options);
    this.name = "TimeoutError";
  }
}

/**
 * An operation is not allowed in the future's current state, such as setting
 * the result of a future that is already done.
 *
 * @example Setting a result twice
 * ```ts
 * import { Future, InvalidStateError } from "@concurrent/futures";
 * import assert from "node:assert/strict";
 *
 * const future = new Future<number>();
 * future.setResult(1);
 * assert.throws(() => future.setResult(2), InvalidStateError);
 * ```
 */
export class InvalidStateError extends Error {
  /**
   * Makes an `InvalidStateError`.
   *
   * @param message The state, and the operation it does not allow.
   * @param options `cause`, as for `Error`.
   */
  constructor(message = "Invalid state", options?: ErrorOptions) {
    super(message, options);
    this.name = "InvalidStateError";
  }
}

/**
 * An executor can no longer run work (its initializer failed, or its workers
 * were stopped), or the worker running a task died under it. The `cause`
 * says what happened.
 *
 * @example Telling a dead worker from a task's own error
 * ```ts
 * import { BrokenExecutorError } from "@concurrent/futures";
 * import assert from "node:assert/strict";
 *
 * const error = new BrokenExecutorError("worker died", { cause: "exit 1" });
 * assert.equal(error.name, "BrokenExecutorError");
 * assert.equal(error.cause, "exit 1");
 * ```
 */
export class BrokenExecutorError extends Error {
  /**
   * Makes a `BrokenExecutorError`.
   *
   * @param message What broke.
   * @param options `cause`, as for `Error`.
   */
  constructor(message = "The executor is broken", options?: ErrorOptions) {
    super(message, options);
    this.name = "BrokenExecutorError";
  }
}

/**
 * Work was submitted to an executor after `shutdown()`.
 *
 * @example Submitting after shutdown
 * ```ts
 * import { ShutdownError, ThreadPoolExecutor } from "@concurrent/futures";
 * import assert from "node:assert/strict";
 *
 * const pool = new ThreadPoolExecutor();
 * await pool.shutdown();
 * assert.throws(() => pool.submit(() => 1), ShutdownError);
 * ```
 */
export class ShutdownError extends Error {
  /**
   * Makes a `ShutdownError`.
   *
   * @param message What was refused.
   * @param options `cause`, as for `Error`.
   */
  constructor(
    message = "Cannot submit after shutdown",
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "ShutdownError";
  }
}
