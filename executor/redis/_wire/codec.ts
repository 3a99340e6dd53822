// The bytes a task or a reply becomes in a stream entry. A small record of
// values JSON carries exactly goes as JSON text behind a NUL byte: ~1 µs to
// write and ~1.5 µs to read where node:v8 takes ~12 and ~15 (Deno 2.9.6),
// and every tiny task pays it four times. Any other record goes as `node:v8`
// serialization, so arguments and results keep structured-clone fidelity
// (Map, Set, Date, RegExp, typed arrays, BigInt, cycles, undefined, NaN, -0)
// across machines. The first byte tells which: node:v8's is 0xff.
//
// Exactly means: what JSON.parse gives back is what structured clone would.
// So JSON takes strings, booleans, null, finite numbers but -0, and dense
// arrays and plain objects of them whose properties are all data properties
// (no accessor, whose getter structured clone runs once, no extra property
// on an array, no Proxy, which structured clone refuses, no object met
// twice; an array's element is read directly, so one that is an accessor
// would run twice: rare enough), and at most
// JSON_VALUES values.
//
// Errors do not travel as Error objects: v8 keeps only the built-in names and
// drops `cause` chains and custom subclasses' names. They travel as plain
// `ErrorRecord`s, the same shape the pools use (`toRecord` and `fromRecord`
// of `executor/_wire/error_record.ts`).
import { deserialize, serialize } from "node:v8";
import { types } from "node:util";

// A record's first byte when it is JSON text, and that byte as text.
const JSON_TAG = 0;
const JSON_TEXT_TAG = "\u0000";
// Values a record may hold to go as JSON: a node's batch of a few hundred
// replies still does (JSON writes and reads one ~2× faster than node:v8);
// past this, a value big enough to be worth the binary form.
const JSON_VALUES = 8_192;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });
const { getPrototypeOf, getOwnPropertyDescriptor, keys } = Object;
const { isArray } = Array;
const OBJECT = Object.prototype;
const ARRAY = Array.prototype;
// The objects met in the record being checked: one met twice is shared,
// which structured clone keeps and JSON would not.
const seen = new Set<object>();

/**
 * Serializes `record` for a stream entry.
 *
 * @param record any structured-cloneable value.
 * @returns its bytes: JSON text behind a NUL, or its `node:v8`
 * serialization.
 * @throws {TypeError} naming what could not be cloned (a function, a symbol).
 */
export function encode(record: unknown): Uint8Array {
  const encoded = encodeText(record);
  return typeof encoded === "string" ? encoder.encode(encoded) : encoded;
}

/**
 * As `encode`, but a record that goes as JSON comes as its text (behind a
 * NUL), whose UTF-8 bytes are the entry's: an argument node-redis writes
 * with its command's other text, where bytes are a write of their own.
 *
 * @param record any structured-cloneable value.
 * @returns the entry's text, or its `node:v8` bytes.
 * @throws {TypeError} naming what could not be cloned (a function, a symbol).
 */
export function encodeText(record: unknown): string | Uint8Array {
  let json: boolean;
  try {
    json = !("toJSON" in OBJECT) && !("toJSON" in ARRAY) &&
      exact(record, { left: JSON_VALUES });
  } finally {
    seen.clear();
  }
  if (json) return JSON_TEXT_TAG + JSON.stringify(record);
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
 * Whether what `encodeText` gave is over `limit` bytes (the text's UTF-8
 * length is counted only when it may be).
 */
export function encodedOver(
  encoded: string | Uint8Array,
  limit: number,
): boolean {
  if (typeof encoded !== "string") return encoded.byteLength > limit;
  if (encoded.length > limit) return true;
  return encoded.length * 3 > limit &&
    encoder.encode(encoded).byteLength > limit;
}

/**
 * Deserializes what `encode` produced.
 *
 * @typeParam T the record's type: the caller's claim, not checked.
 * @param bytes a stream entry's value.
 * @returns the record.
 * @throws {TypeError} when `bytes` is neither (an entry some other program
 * wrote to the stream).
 */
export function decode<T>(bytes: Uint8Array): T {
  try {
    if (bytes[0] === JSON_TAG) {
      return JSON.parse(decoder.decode(bytes.subarray(1)));
    }
    return deserialize(bytes) as T;
  } catch (error) {
    throw new TypeError(
      `Cannot decode a ${bytes.byteLength}-byte Redis entry as a record: ${
        describe(error)
      }`,
      { cause: error },
    );
  }
}

// Whether JSON carries `value` exactly, within `budget.left` values.
function exact(value: unknown, budget: { left: number }): boolean {
  if (--budget.left < 0) return false;
  switch (typeof value) {
    case "string":
      // A long string costs as much as many values.
      budget.left -= value.length >> 6;
      return budget.left >= 0;
    case "boolean":
      return true;
    case "number":
      return value - value === 0 && (value !== 0 || 1 / value > 0);
    case "object": {
      if (value === null) return true;
      if (types.isProxy(value) || seen.has(value)) return false;
      seen.add(value);
      if (isArray(value)) {
        if (getPrototypeOf(value) !== ARRAY) return false;
        const length = value.length;
        if (length > budget.left) return false;
        for (let i = 0; i < length; i++) {
          if (!exact(value[i], budget)) return false;
        }
        // Fewer keys than items: a hole (read as undefined above, unless an
        // index of Array.prototype filled it); more: extra properties, which
        // structured clone keeps.
        return length === 0 || keys(value).length === length;
      }
      const proto = getPrototypeOf(value);
      if (proto !== OBJECT && proto !== null) return false;
      for (const key of keys(value)) {
        // Read through its descriptor, so a getter does not run here: an
        // accessor has no value, and undefined is not exact.
        if (!exact(getOwnPropertyDescriptor(value, key)?.value, budget)) {
          return false;
        }
      }
      return true;
    }
    default:
      return false;
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
