/**
 * `wait`: wait for some or all of a set of futures.
 *
 * @module
 */
import type { Future } from "./future.ts";
import { checkTimeout, describe, startTimer } from "./_util.ts";

/** `wait` returns as soon as any future is done (or cancelled). */
export const FIRST_COMPLETED = "FIRST_COMPLETED";
/** `wait` returns as soon as any future fails, or when all are done. */
export const FIRST_EXCEPTION = "FIRST_EXCEPTION";
/** `wait` returns when every future is done (the default). */
export const ALL_COMPLETED = "ALL_COMPLETED";

/** When {@linkcode wait} returns. */
export type ReturnWhen =
  | typeof FIRST_COMPLETED
  | typeof FIRST_EXCEPTION
  | typeof ALL_COMPLETED;

/** Options of {@linkcode wait}. */
export interface WaitOptions {
  /**
   * Milliseconds to wait at most; then `wait` resolves with what is done.
   *
   * @default {Infinity}
   */
  timeout?: number;
  /**
   * When to return.
   *
   * @default {"ALL_COMPLETED"}
   */
  returnWhen?: ReturnWhen;
}

/** What {@linkcode wait} resolves with. */
export interface WaitResult<T> {
  /** The futures that are done (finished or cancelled). */
  done: Set<Future<T>>;
  /** The others. */
  notDone: Set<Future<T>>;
}

const MODES: readonly string[] = [
  FIRST_COMPLETED,
  FIRST_EXCEPTION,
  ALL_COMPLETED,
];

/**
 * Waits for futures, as Python's `concurrent.futures.wait`. Duplicates count
 * once; a cancelled future counts as done. It never rejects: on timeout it
 * resolves with what is done so far.
 *
 * @typeParam T The futures' value type.
 * @param futures The futures.
 * @param options `timeout` (ms) and `returnWhen`.
 * @returns The done and the not-done futures.
 * @throws {TypeError} For a `returnWhen` that is not one of the three modes,
 * or a `timeout` that is not a number.
 * @throws {RangeError} For a negative or NaN `timeout`.
 *
 * @example Wait for the first future to finish
 * ```ts
 * import { FIRST_COMPLETED, Future, wait } from "@concurrent/futures";
 * import assert from "node:assert/strict";
 *
 * const fast = new Future<string>();
 * const slow = new Future<string>();
 * setTimeout(() => fast.setResult("fast"), 10);
 * const { done, notDone } = await wait([fast, slow], {
 *   returnWhen: FIRST_COMPLETED,
 * });
 * assert.deepEqual([...done], [fast]);
 * assert.deepEqual([...notDone], [slow]);
 * ```
 */
export async function wait<T>(
  futures: Iterable<Future<T>>,
  options: WaitOptions = {},
): Promise<WaitResult<T>> {
  const { timeout, returnWhen = ALL_COMPLETED } = options;
  checkTimeout(timeout, "wait for futures");
  if (!MODES.includes(returnWhen)) {
    throw new TypeError(
      `Cannot wait for futures as 'returnWhen' must be FIRST_COMPLETED, FIRST_EXCEPTION or ALL_COMPLETED: current value is ${
        describe(returnWhen)
      }`,
    );
  }
  const done = new Set<Future<T>>();
  const notDone = new Set<Future<T>>();
  for (const future of futures) {
    (future.done() ? done : notDone).add(future);
  }
  const result = () => ({ done: new Set(done), notDone: new Set(notDone) });
  if (notDone.size === 0) return result();
  if (returnWhen === FIRST_COMPLETED && done.size > 0) return result();
  if (returnWhen === FIRST_EXCEPTION) {
    for (const future of done) {
      if (await failed(future)) return result();
    }
  }
  if (timeout === 0) return result();

  const { promise, resolve } = Promise.withResolvers<void>();
  let settled = false;
  const finish = () => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    resolve();
  };
  const timer = startTimer(timeout, finish);
  for (const future of notDone) {
    future.addDoneCallback(() => {
      if (settled) return;
      notDone.delete(future);
      done.add(future);
      if (returnWhen === FIRST_COMPLETED || notDone.size === 0) finish();
      else if (returnWhen === FIRST_EXCEPTION) {
        failed(future).then((yes) => yes && finish());
      }
    });
  }
  await promise;
  return result();
}

// Whether a done future finished with an error (cancelled is not failed).
async function failed(future: Future<unknown>): Promise<boolean> {
  if (future.cancelled()) return false;
  return (await future.exception()) !== undefined;
}
