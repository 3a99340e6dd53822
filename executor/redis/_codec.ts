// The bytes a task or a reply becomes in a stream entry: `node:v8`
// serialization, so arguments and results keep structured-clone fidelity
// (Map, Set, Date, RegExp, typed arrays, BigInt, cycles) across machines.
//
// Errors do not travel as Error objects: v8 keeps only the built-in names and
// drops `cause` chains and custom subclasses' names. They travel as plain
// `ErrorRecord`s, the same shape the pools use, and are rebuilt on the other
// side by `_error_record.ts`.
import { deserialize, serialize } from "node:v8";
import type { ErrorRecord, RawThrow } from "../_protocol.ts";
import { fromRecord } from "../_error_record.ts";

/** How deep a `cause` chain is kept; deeper causes are cut (cycles end). */
const MAX_CAUSES = 8;

/**
 * Serializes `record` for a stream entry.
 *
 * @param record any structured-cloneable value.
 * @returns its `node:v8` serialization.
 * @throws {TypeError} naming what could not be cloned (a function, a symbol).
 */
export function encode(record: unknown): Uint8Array {
  try {
    return serialize(record);
  } catch (error) {
    throw new TypeError(
      `Cannot encode record for Redis: ${describe(error)}`,
      { cause: error },
    );
  }
}

/**
 * Deserializes what `encode` produced.
 *
 * @typeParam T the record's type: the caller's claim, not checked.
 * @param bytes a stream entry's value.
 * @returns the record.
 * @throws {TypeError} when `bytes` is not a `node:v8` serialization (an entry
 * some other program wrote to the stream).
 */
export function decode<T>(bytes: Uint8Array): T {
  try {
    return deserialize(bytes) as T;
  } catch (error) {
    throw new TypeError(
      `Cannot decode a ${bytes.byteLength}-byte Redis entry as a node:v8 record: ${
        describe(error)
      }`,
      { cause: error },
    );
  }
}

/**
 * What was thrown, as a record `encode` can always carry: an `Error` keeps
 * `name`, `message`, `stack` and its `cause` chain; anything else travels as
 * its clone, or as its string when it cannot be cloned.
 *
 * @param thrown the value a task threw.
 * @returns an `ErrorRecord` for an Error, else a `RawThrow`.
 */
export function toErrorRecord(thrown: unknown): ErrorRecord | RawThrow {
  return recordOf(thrown, 0);
}

/**
 * Rebuilds the error `toErrorRecord` described, as an error of this realm:
 * built-in and `Deno.errors` types stay `instanceof`, every `name` survives.
 *
 * @param record what `toErrorRecord` returned, after `encode`/`decode`.
 * @returns the error, or the raw thrown value.
 */
export function fromErrorRecord(record: ErrorRecord | RawThrow): unknown {
  return fromRecord(record);
}

function recordOf(thrown: unknown, depth: number): ErrorRecord | RawThrow {
  try {
    if (!(thrown instanceof Error)) {
      return { error: false, value: clone(thrown) };
    }
    const record: ErrorRecord = {
      error: true,
      name: String(thrown.name),
      message: String(thrown.message),
    };
    if (typeof thrown.stack === "string") record.stack = thrown.stack;
    if (thrown instanceof DOMException) record.dom = true;
    const cause = thrown.cause;
    if (cause !== undefined && depth < MAX_CAUSES) {
      if (cause instanceof Error) {
        record.cause = recordOf(cause, depth + 1);
        record.causeIsError = true;
      } else {
        record.cause = clone(cause);
      }
    }
    return record;
  } catch (unreadable) {
    // A getter on the thrown value threw: report that instead.
    return {
      error: true,
      name: "Error",
      message: `The task threw a value that cannot be read: ${
        describe(unreadable)
      }`,
    };
  }
}

// The value if v8 can carry it, else its string.
function clone(value: unknown): unknown {
  try {
    serialize(value);
    return value;
  } catch {
    return describe(value);
  }
}

function describe(value: unknown): string {
  try {
    return value instanceof Error
      ? `${value.name}: ${value.message}`
      : String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
