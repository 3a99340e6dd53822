// Errors across the boundary, both directions: `toRecord` runs in the worker
// (shipped as source text, so it is self-contained) and turns what a task
// threw into an `ErrorRecord`; `fromRecord` runs in the pool and rebuilds it,
// so built-in types stay `instanceof` and every `name` survives
// (structuredClone alone turns a custom error class into a plain Error).
import type { ErrorRecord, RawThrow } from "./protocol.ts";

/**
 * What a task threw, as a record that always clones. Never throws: a value
 * whose reading throws (a hostile getter, a Proxy) becomes a record that
 * says so, and a cause chain is cut after 16 links (an error may be its own
 * cause). Self-contained: shipped to workers as source text.
 */
export function toRecord(error: unknown, depth = 0): ErrorRecord | RawThrow {
  const MAX_CAUSES = 16;
  const safeString = (value: unknown): string => {
    try {
      return String(value);
    } catch {
      return typeof value;
    }
  };
  try {
    if (!(error instanceof Error)) {
      try {
        return { error: false, value: structuredClone(error) };
      } catch {
        return { error: false, value: String(error) };
      }
    }
    const record: ErrorRecord = {
      error: true,
      name: String(error.name),
      message: String(error.message),
      stack: typeof error.stack === "string" ? error.stack : undefined,
    };
    if (error instanceof DOMException) record.dom = true;
    if ("cause" in error && error.cause !== undefined && depth < MAX_CAUSES) {
      const cause = error.cause;
      if (cause instanceof Error) {
        record.cause = toRecord(cause, depth + 1);
        record.causeIsError = true;
      } else {
        try {
          record.cause = structuredClone(cause);
        } catch {
          record.cause = safeString(cause);
        }
      }
    }
    return record;
  } catch (unreadable) {
    return {
      error: true,
      name: "Error",
      message: `The task threw a value that cannot be read: ${
        safeString(unreadable)
      }`,
    };
  }
}

const BUILT_IN: Record<string, ErrorConstructor> = {
  Error,
  EvalError,
  RangeError,
  ReferenceError,
  SyntaxError,
  TypeError,
  URIError,
};

// Deno.errors.NotCapable and the rest, so a denied operation stays one.
const DENO_ERRORS = Deno.errors as unknown as Record<
  string,
  new (message: string) => Error
>;

/** The error a worker reported, as an error of this realm. */
export function fromRecord(record: ErrorRecord | RawThrow): unknown {
  if (!record.error) return record.value;
  const { name, message } = record;
  let error: Error;
  if (record.dom) {
    error = new DOMException(message, name);
  } else if (Object.hasOwn(BUILT_IN, name)) {
    error = new BUILT_IN[name](message);
  } else if (Object.hasOwn(DENO_ERRORS, name)) {
    error = new DENO_ERRORS[name](message);
  } else {
    error = new Error(message);
    error.name = name;
  }
  if (record.stack !== undefined) {
    Object.defineProperty(error, "stack", {
      value: record.stack,
      writable: true,
      configurable: true,
    });
  }
  if ("cause" in record) {
    error.cause = record.causeIsError
      ? fromRecord(record.cause as ErrorRecord)
      : record.cause;
  }
  return error;
}
