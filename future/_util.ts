// Checks shared by future/ and executor/: options are validated once, at the
// public boundary, in std's message form.

/**
 * Throws unless `value` is `undefined` or a non-negative number of
 * milliseconds (`Infinity` allowed).
 */
export function checkTimeout(
  value: unknown,
  action: string,
  option = "timeout",
): void {
  if (value === undefined) return;
  if (typeof value !== "number") {
    throw new TypeError(
      `Cannot ${action} as '${option}' must be a number of milliseconds: current value is ${
        describe(value)
      }`,
    );
  }
  if (!(value >= 0)) {
    throw new RangeError(
      `Cannot ${action} as '${option}' must be >= 0: current value is ${value}`,
    );
  }
}

/** Throws unless `value` is `undefined` or an `AbortSignal`. */
export function checkSignal(value: unknown, action: string): void {
  if (value !== undefined && !(value instanceof AbortSignal)) {
    throw new TypeError(
      `Cannot ${action} as 'signal' must be an AbortSignal: current value is ${
        describe(value)
      }`,
    );
  }
}

/** A value and its type, for error messages. */
export function describe(value: unknown): string {
  if (typeof value === "string") return `"${value}" (string)`;
  if (typeof value === "function") {
    return `${value.name || "anonymous"} (function)`;
  }
  if (value === null) return "null";
  if (typeof value === "object") {
    return `${Object.prototype.toString.call(value)}`;
  }
  return `${String(value)} (${typeof value})`;
}

/**
 * Starts a timer for a finite timeout; `Infinity` and `undefined` never fire.
 * Returns the timer id, or `undefined` when no timer was needed.
 */
export function startTimer(
  timeout: number | undefined,
  fn: () => void,
): ReturnType<typeof setTimeout> | undefined {
  if (timeout === undefined || timeout === Infinity) return undefined;
  return setTimeout(fn, timeout);
}

/**
 * Throws unless `value` is an integer >= 1 (or `Infinity`, where allowed).
 *
 * @param action What was being done, for the message (`map`, `create X`).
 */
export function checkCount(
  value: unknown,
  action: string,
  option: string,
  infinite: boolean,
): void {
  if (typeof value !== "number") {
    throw new TypeError(
      `Cannot ${action} as '${option}' must be a number: current value is ${
        describe(value)
      }`,
    );
  }
  if (
    !(value >= 1) ||
    !(Number.isInteger(value) || (infinite && value === Infinity))
  ) {
    throw new RangeError(
      `Cannot ${action} as '${option}' must be an integer >= 1: current value is ${value}`,
    );
  }
}

/** Bounds of {@linkcode waitUntil}. */
export interface WaitBounds {
  /** Milliseconds; `undefined` or `Infinity` never time out. */
  timeout?: number;
  /** Aborting rejects with `signal.reason`. */
  signal?: AbortSignal;
  /** The error to reject with when the timeout passes. */
  timedOut: () => Error;
}

/**
 * Waits for a wake-up within a timeout and a signal: `listen` is given the
 * function to call when the awaited thing happens, and may return one that
 * stops listening. Resolves on the wake-up; rejects with `timedOut()` past
 * the timeout, or `signal.reason` on abort (at once if already aborted).
 * Timer, abort listener and `listen`'s own listener are always removed.
 */
export function waitUntil(
  listen: (wake: () => void) => (() => void) | void,
  bounds: WaitBounds,
): Promise<void> {
  const { timeout, signal, timedOut } = bounds;
  if (signal?.aborted) return Promise.reject(signal.reason);
  const { promise, resolve, reject } = Promise.withResolvers<void>();
  let settled = false;
  let unlisten: (() => void) | void = undefined;
  const finish = (outcome: () => void) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
    unlisten?.();
    outcome();
  };
  const onAbort = () => finish(() => reject(signal!.reason));
  const timer = startTimer(timeout, () => finish(() => reject(timedOut())));
  signal?.addEventListener("abort", onAbort, { once: true });
  unlisten = listen(() => finish(resolve));
  // `listen` may wake at once, before it returned its unlistener.
  if (settled) unlisten?.();
  return promise;
}
