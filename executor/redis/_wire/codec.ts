// The bytes a task or a reply becomes in a stream entry: `node:v8`
// serialization, so arguments and results keep structured-clone fidelity
// (Map, Set, Date, RegExp, typed arrays, BigInt, cycles) across machines.
//
// Errors do not travel as Error objects: v8 keeps only the built-in names and
// drops `cause` chains and custom subclasses' names. They travel as plain
// `ErrorRecord`s, the same shape the pools use (`toRecord` and `fromRecord`
// of `executor/_wire/error_record.ts`).
import { deserialize, serialize } from "node:v8";

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

function describe(value: unknown): string {
  try {
    return value instanceof Error
      ? `${value.name}: ${value.message}`
      : String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
