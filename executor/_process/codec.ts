// Both ends of a process worker's channel: a message's bytes, and back. A
// message that JSON carries exactly goes as JSON; any other as node:v8's
// serialization (structured clone's own format). JSON costs ~1 µs a small
// message where node:v8 costs ~5-9, and needs no node:v8: importing it costs
// a child ~7 ms at its start. Self-contained: the child gets it as source
// text.
//
// Exactly means: what the other end rebuilds is what structured clone would
// have. So JSON takes strings, booleans, null, numbers, and arrays and plain
// objects of them (undefined, NaN, ±Infinity, -0 and bigints go as escaped
// strings), and gives up, for node:v8, on anything else: a class instance,
// an accessor, a hole or an extra property in an array, an object met twice
// (structured clone keeps the sharing), or a message too big for JSON to be
// the faster. Giving up runs no code of the task's: objects are read through
// their property descriptors, so node:v8 runs a getter once, as structured
// clone does. (An array element that is an accessor, or a Proxy, is read
// directly: one is rare, the other is copied where structured clone refuses
// it.)
import type { Protocol } from "../_wire/protocol.ts";

/** What the codec needs of node:v8. */
export interface V8 {
  serialize(value: unknown): Uint8Array;
  deserialize(bytes: Uint8Array): unknown;
}

/** A message's bytes, and back. */
export interface Codec {
  /**
   * The message's bytes. Throws what node:v8 throws for a message it cannot
   * serialize, or what a getter of it throws.
   */
  encode(message: unknown): Uint8Array;
  /** Whether decoding `body` needs node:v8. */
  needsV8(body: Uint8Array): boolean;
  /** The message `body` holds. */
  decode(body: Uint8Array): unknown;
}

/**
 * Makes a codec.
 *
 * @param P The protocol: a RESULTS record's status may be an outbox mark,
 * whose getter must run when the status is serialized.
 * @param v8 Gives node:v8, loading it at once if it is not loaded yet.
 * @param v8Loaded Whether node:v8 is loaded: until it is, JSON takes any
 * message it carries exactly, however big.
 */
export function codec(
  P: Protocol,
  v8: () => V8,
  v8Loaded: () => boolean,
): Codec {
  // The first byte of a body: node:v8's header is 0xff; JSON text never is,
  // nor is it 0x01, which marks JSON that holds escaped strings.
  const V8_TAG = 0xff;
  const ESCAPED_TAG = 0x01;
  // Values a message may hold for JSON to go first: past this, node:v8's
  // serializer is the faster.
  const BUDGET = 256;
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  // Taken now, before any task runs: a task that replaces a global of these
  // must not change the channel.
  const { parse, stringify } = JSON;
  const { getOwnPropertyDescriptors, getPrototypeOf, keys } = Object;
  const { isArray } = Array;
  const toBigInt = BigInt;
  const OBJECT = Object.prototype;
  const ARRAY = Array.prototype;
  let budget = 0;
  let escaped = false;
  const seen = new Set<object>();

  // An escaped string: NUL, a letter, then a payload.
  const escape = (letter: string, payload = ""): string => {
    escaped = true;
    return stringify(`\u0000${letter}${payload}`);
  };
  const unescape = (text: string): unknown => {
    switch (text[1]) {
      case "u":
        return undefined;
      case "N":
        return NaN;
      case "I":
        return Infinity;
      case "i":
        return -Infinity;
      case "z":
        return -0;
      case "b":
        return toBigInt(text.slice(2));
      default:
        return text.slice(2);
    }
  };

  // JSON for `value`, or undefined to give up.
  const json = (value: unknown): string | undefined => {
    if (--budget < 0) return undefined;
    switch (typeof value) {
      case "string":
        budget -= value.length >> 6;
        return value.charCodeAt(0) === 0
          ? escape("s", value)
          : stringify(value);
      case "number":
        if (value !== value) return escape("N");
        if (value === Infinity) return escape("I");
        if (value === -Infinity) return escape("i");
        if (value === 0 && 1 / value < 0) return escape("z");
        return "" + value;
      case "boolean":
        return value ? "true" : "false";
      case "undefined":
        return escape("u");
      case "bigint":
        return escape("b", "" + value);
      case "object":
        if (value === null) return "null";
        if (seen.has(value)) return undefined;
        seen.add(value);
        return isArray(value) ? array(value) : object(value);
      default:
        return undefined;
    }
  };
  const array = (value: unknown[]): string | undefined => {
    if (getPrototypeOf(value) !== ARRAY) return undefined;
    const n = value.length;
    let text = "[";
    for (let i = 0; i < n; i++) {
      if (!(i in value)) return undefined;
      const item = json(value[i]);
      if (item === undefined) return undefined;
      text += i === 0 ? item : "," + item;
    }
    // No hole (checked above), so more keys than items are extra
    // properties, which structured clone keeps.
    if (n > 0 && keys(value).length !== n) return undefined;
    return text + "]";
  };
  const object = (value: object): string | undefined => {
    const proto = getPrototypeOf(value);
    if (proto !== OBJECT && proto !== null) return undefined;
    const descriptors = getOwnPropertyDescriptors(value);
    let text = "{";
    for (const key of keys(descriptors)) {
      const descriptor = descriptors[key];
      if (!descriptor.enumerable) continue;
      if (!("value" in descriptor)) return undefined;
      const item = json(descriptor.value);
      if (item === undefined) return undefined;
      text += (text.length === 1 ? "" : ",") + stringify(key) + ":" +
        item;
    }
    return text + "}";
  };
  // A whole message: in a RESULTS message, a record's status may be a mark
  // (the worker's outbox): its getter says whose value is being cloned,
  // just before that value is, as when node:v8 serializes it.
  const message = (value: unknown): string | undefined => {
    if (!isArray(value) || value[0] !== P.RESULTS) return json(value);
    const { SIZE, STATUS } = P.RESULT;
    seen.add(value);
    let text = "[" + P.RESULTS;
    for (let i = 1; i < value.length; i++) {
      let field = value[i];
      if ((i - 1) % SIZE === STATUS && typeof field === "object") {
        field = (field as { status: number }).status;
      }
      const item = json(field);
      if (item === undefined) return undefined;
      text += "," + item;
    }
    return text + "]";
  };

  const revive = (value: unknown): unknown => {
    if (typeof value === "string") {
      return value.charCodeAt(0) === 0 ? unescape(value) : value;
    }
    if (value === null || typeof value !== "object") return value;
    const record = value as Record<string, unknown>;
    for (const key of keys(record)) {
      const item = record[key];
      const revived = revive(item);
      if (revived === item) continue;
      // (JSON.parse makes "__proto__" an own data property, so this sets
      // that property, not the prototype.)
      record[key] = revived;
    }
    return value;
  };

  return {
    encode(value) {
      budget = v8Loaded() ? BUDGET : Infinity;
      escaped = false;
      let text: string | undefined;
      try {
        text = message(value);
      } finally {
        seen.clear();
      }
      if (text === undefined) return v8().serialize(value);
      return encoder.encode(escaped ? "\u0001" + text : text);
    },
    needsV8(body) {
      return body[0] === V8_TAG;
    },
    decode(body) {
      if (body[0] === V8_TAG) return v8().deserialize(body);
      if (body[0] !== ESCAPED_TAG) return parse(decoder.decode(body));
      return revive(parse(decoder.decode(body.subarray(1))));
    },
  };
}
