/**
 * `asCompleted`: futures in the order they complete.
 *
 * @module
 */
import type { Future } from "./future.ts";
import { TimeoutError } from "./errors.ts";
import { checkSignal, checkTimeout, waitUntil } from "./_util.ts";

/** Options of {@linkcode asCompleted}. */
export interface AsCompletedOptions {
  /**
   * Milliseconds from the call: when they pass with futures left, the
   * iteration throws `TimeoutError`.
   *
   * @default {Infinity}
   */
  timeout?: number;
  /** Aborting ends the iteration with `signal.reason`. */
  signal?: AbortSignal;
}

/**
 * Yields each distinct future once, as it completes (finished or
 * cancelled): those already done first, in the order given, then the rest
 * in completion order, as Python's `concurrent.futures.as_completed`. It
 * yields the `Future` objects themselves.
 *
 * @typeParam T The futures' value type.
 * @param futures The futures.
 * @param options `timeout` (ms, counted from this call) and `signal`.
 * @returns An async generator of the futures.
 * @throws {TimeoutError} From the iteration, when `timeout` passes with
 * futures unfinished; its message says how many of how many.
 * @throws {TypeError} For a `timeout` that is not a number, or a `signal`
 * that is not an AbortSignal.
 * @throws {RangeError} For a negative or NaN `timeout`.
 *
 * @example Handle results as they come in
 * ```ts
 * import { asCompleted, Future } from "@concurrent/futures";
 * import assert from "node:assert/strict";
 *
 * const slow = new Future<string>();
 * const fast = new Future<string>();
 * setTimeout(() => slow.setResult("slow"), 20);
 * setTimeout(() => fast.setResult("fast"), 5);
 * const order = [];
 * for await (const future of asCompleted([slow, fast])) {
 *   order.push(await future.result());
 * }
 * assert.deepEqual(order, ["fast", "slow"]);
 * ```
 */
export function asCompleted<T>(
  futures: Iterable<Future<T>>,
  options: AsCompletedOptions = {},
): AsyncGenerator<Future<T>> {
  const { timeout, signal } = options;
  checkTimeout(timeout, "iterate futures as completed");
  checkSignal(signal, "iterate futures as completed");
  // The clock starts now, at the call, not at the first next().
  const deadline = timeout === undefined
    ? Infinity
    : performance.now() + timeout;
  return generate([...new Set(futures)], deadline, signal);
}

async function* generate<T>(
  futures: Future<T>[],
  deadline: number,
  signal: AbortSignal | undefined,
): AsyncGenerator<Future<T>> {
  const total = futures.length;
  const ready: Future<T>[] = [];
  const pending = new Set<Future<T>>();
  for (const future of futures) {
    if (future.done()) ready.push(future);
    else pending.add(future);
  }
  let wake: (() => void) | undefined;
  let closed = false;
  for (const future of pending) {
    future.addDoneCallback(() => {
      if (closed || !pending.delete(future)) return;
      ready.push(future);
      wake?.();
    });
  }
  try {
    while (true) {
      while (ready.length > 0) yield ready.shift()!;
      if (pending.size === 0) return;
      if (signal?.aborted) throw signal.reason;
      await waitUntil((resolve) => {
        wake = resolve;
      }, {
        timeout: deadline === Infinity
          ? undefined
          : Math.max(0, deadline - performance.now()),
        signal,
        timedOut: () =>
          new TimeoutError(`${pending.size} of ${total} futures unfinished`),
      });
      wake = undefined;
    }
  } finally {
    closed = true;
  }
}
