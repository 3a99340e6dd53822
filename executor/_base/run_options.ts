// Runs on the main thread, for every executor: the checks of `run`'s
// arguments and options, at the boundary, and whether the executor must
// hold the task itself (deferred.ts) rather than hand it on at once.
import { checkSignal, checkTimeout, describe } from "../../future/_util.ts";
import type { RunOptions } from "../executor.ts";
import { hasFuture } from "./graph.ts";
import { checkRetry, type RetryPolicy } from "./retry.ts";

/**
 * Checks a task's arguments and `RunOptions`, for any executor.
 *
 * @returns the task's retry policy.
 * @throws {TypeError} For arguments that are not an array, or bad options.
 * @throws {RangeError} For a negative `timeout`, or retry options out of
 * range.
 */
export function checkRun(
  args: unknown,
  options: RunOptions | undefined,
): RetryPolicy {
  if (!Array.isArray(args)) {
    throw new TypeError(
      `Cannot submit as 'args' must be an array: current value is ${
        describe(args)
      }`,
    );
  }
  const { timeout, signal, transfer } = options ?? {};
  checkTimeout(timeout, "submit");
  checkSignal(signal, "submit");
  if (transfer !== undefined && !Array.isArray(transfer)) {
    throw new TypeError(
      `Cannot submit as 'transfer' must be an array: current value is ${
        describe(transfer)
      }`,
    );
  }
  return checkRetry(options, "submit");
}

/**
 * Whether the executor holds the task itself: it waits for futures among
 * its arguments, or may run again. Costs one `instanceof` per argument.
 */
export function mustHold(
  args: readonly unknown[],
  policy: RetryPolicy,
): boolean {
  return policy.retries > 0 || hasFuture(args);
}
