// Runs on the main thread, for every executor: retries (SPEC "Retries"). A
// task that fails runs again, up to `retries` more times, after a delay
// that doubles each time; `retryIf` decides which errors are worth it. A
// cancel, or a `signal` that aborted, is never retried.
import { describe } from "../../future/_util.ts";

/** The retry options of `run` and `map`. */
export interface RetryOptions {
  /**
   * How many more times a task that failed runs again before its future
   * fails with the last error. A worker that died under it and a `timeout`
   * are failures like any other; a cancel or a `signal` abort is not
   * retried. Tasks that are retried should be idempotent.
   *
   * @default {0}
   */
  retries?: number;
  /**
   * Decides whether a failure is retried (`true`) or fails the future at
   * once (`false`). It runs where the future lives, never on a worker.
   *
   * @default {every failure}
   */
  retryIf?: (error: unknown) => boolean;
  /**
   * Milliseconds before the first retry, doubled before each next one, with
   * ±25 % jitter so that retries of many tasks spread out.
   *
   * @default {0}
   */
  retryDelay?: number;
}

/** Retry options, checked and with their defaults. */
export interface RetryPolicy {
  retries: number;
  retryIf: ((error: unknown) => boolean) | undefined;
  retryDelay: number;
}

/** No retries: what a task gets without options. */
export const NO_RETRIES: RetryPolicy = Object.freeze({
  retries: 0,
  retryIf: undefined,
  retryDelay: 0,
});

/**
 * Checks `retries`, `retryIf` and `retryDelay`.
 *
 * @param action What is being done, as messages start ("submit", "map").
 * @throws {TypeError} For a value of the wrong type, naming the option.
 * @throws {RangeError} For a number out of range, naming the option.
 */
export function checkRetry(
  options: RetryOptions | undefined,
  action: string,
): RetryPolicy {
  if (options === undefined) return NO_RETRIES;
  const { retries = 0, retryIf, retryDelay = 0 } = options;
  if (retries === 0 && retryIf === undefined && retryDelay === 0) {
    return NO_RETRIES;
  }
  if (typeof retries !== "number") {
    throw new TypeError(
      `Cannot ${action} as 'retries' must be a number: current value is ${
        describe(retries)
      }`,
    );
  }
  if (!Number.isInteger(retries) || retries < 0) {
    throw new RangeError(
      `Cannot ${action} as 'retries' must be an integer >= 0: current value is ${retries}`,
    );
  }
  if (retryIf !== undefined && typeof retryIf !== "function") {
    throw new TypeError(
      `Cannot ${action} as 'retryIf' must be a function: current value is ${
        describe(retryIf)
      }`,
    );
  }
  if (typeof retryDelay !== "number") {
    throw new TypeError(
      `Cannot ${action} as 'retryDelay' must be a number of milliseconds: current value is ${
        describe(retryDelay)
      }`,
    );
  }
  if (!(retryDelay >= 0) || !Number.isFinite(retryDelay)) {
    throw new RangeError(
      `Cannot ${action} as 'retryDelay' must be a finite number >= 0: current value is ${retryDelay}`,
    );
  }
  return { retries, retryIf, retryDelay };
}

/**
 * Milliseconds before retry number `n` (1 for the first): `retryDelay`
 * doubled n - 1 times, ±25 %.
 */
export function retryDelayOf(n: number, retryDelay: number): number {
  if (retryDelay === 0) return 0;
  const jitter = 0.75 + Math.random() * 0.5;
  return retryDelay * 2 ** (n - 1) * jitter;
}
