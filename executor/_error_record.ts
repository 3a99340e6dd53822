// Pool side of error transport: rebuilds what `_worker.ts`'s toRecord sent,
// so built-in types stay `instanceof` and every `name` survives.
import type { ErrorRecord, RawThrow } from "./_protocol.ts";

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
