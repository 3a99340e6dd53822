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
