// Both ends of a process worker's channel: a message's bytes, and back. A
// message that JSON carries exactly goes as JSON; any other as node:v8's
// serialization (structured clone's own format). JSON costs ~1 µs a small
// message where node:v8 costs ~5-9, and needs no node:v8: importing it costs
// a child ~7 ms at its start. The child gets it as source text
// (`codecSource`): its pieces each use only globals and their parameters,
// and are joined there as `codec` joins them here.
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
  return joinCodec(new JsonWriter(P), jsonReviver(), v8, v8Loaded);
}

/**
 * The source of `codec` for the child: a function of the same parameters,
 * its pieces joined into one self-contained source.
 */
export function codecSource(): string {
  return `((P, v8, v8Loaded) => (${joinCodec})(new (${JsonWriter})(P), (${jsonReviver})(), v8, v8Loaded))`;
}

/**
 * A codec from its JSON pieces: the first byte of a body says which path
 * it took. Self-contained.
 *
 * @param writer The JSON path out.
 * @param revive The JSON path back, for text that holds escaped strings.
 * @param v8 Gives node:v8, loading it at once if it is not loaded yet.
 * @param v8Loaded Whether node:v8 is loaded.
 */
export function joinCodec(
  writer: JsonWriter,
  revive: (value: unknown) => unknown,
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
  // Taken now, before any task runs: a task that replaces a global must not
  // change the channel.
  const { parse } = JSON;
  return {
    encode(value) {
      const text = writer.write(value, v8Loaded() ? BUDGET : Infinity);
      if (text === undefined) return v8().serialize(value);
      return encoder.encode(writer.escaped ? "\u0001" + text : text);
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

// What JSON has no exact form for goes as an escaped string: NUL, a letter,
// then a payload. u: undefined; N: NaN; I: Infinity; i: -Infinity; z: -0;
// b: a bigint (its digits); s: a string that starts with NUL (the string).
// JsonWriter writes them, jsonReviver reads them back.

/**
 * The JSON path out: the JSON text of a message that JSON carries exactly,
 * or `undefined` to give up (for node:v8). Self-contained.
 */
export class JsonWriter {
  readonly #P: Protocol;
  // Taken now, before any task runs: a task that replaces a global of these
  // must not change the channel.
  readonly #stringify = JSON.stringify;
  readonly #getOwnPropertyDescriptors = Object.getOwnPropertyDescriptors;
  readonly #getPrototypeOf = Object.getPrototypeOf;
  readonly #keys = Object.keys;
  readonly #isArray = Array.isArray;
  readonly #OBJECT = Object.prototype;
  readonly #ARRAY = Array.prototype;
  // Values the message may still hold; the text holds escaped strings; the
  // objects met so far.
  #budget = 0;
  #escaped = false;
  readonly #seen = new Set<object>();

  /**
   * @param P The protocol: a RESULTS record's status may be an outbox mark,
   * whose getter must run when the status is serialized.
   */
  constructor(P: Protocol) {
    this.#P = P;
  }

  /** Whether the text last written holds escaped strings. */
  get escaped(): boolean {
    return this.#escaped;
  }

  /**
   * The JSON text of `message`, or `undefined` where JSON would not give
   * back what structured clone would, or past `budget` values.
   */
  write(message: unknown, budget: number): string | undefined {
    this.#budget = budget;
    this.#escaped = false;
    try {
      return this.#message(message);
    } finally {
      this.#seen.clear();
    }
  }

  // A whole message: in a RESULTS message, a record's status may be a mark
  // (the worker's outbox): its getter says whose value is being cloned,
  // just before that value is, as when node:v8 serializes it.
  #message(value: unknown): string | undefined {
    const P = this.#P;
    if (!this.#isArray(value) || value[0] !== P.RESULTS) {
      return this.#json(value);
    }
    const { SIZE, STATUS } = P.RESULT;
    this.#seen.add(value);
    let text = "[" + P.RESULTS;
    for (let i = 1; i < value.length; i++) {
      let field = value[i];
      if ((i - 1) % SIZE === STATUS && typeof field === "object") {
        field = (field as { status: number }).status;
      }
      const item = this.#json(field);
      if (item === undefined) return undefined;
      text += "," + item;
    }
    return text + "]";
  }

  // JSON for `value`, or undefined to give up.
  #json(value: unknown): string | undefined {
    if (--this.#budget < 0) return undefined;
    switch (typeof value) {
      case "string":
        this.#budget -= value.length >> 6;
        return value.charCodeAt(0) === 0
          ? this.#escape("s", value)
          : this.#stringify(value);
      case "number":
        if (value !== value) return this.#escape("N");
        if (value === Infinity) return this.#escape("I");
        if (value === -Infinity) return this.#escape("i");
        if (value === 0 && 1 / value < 0) return this.#escape("z");
        return "" + value;
      case "boolean":
        return value ? "true" : "false";
      case "undefined":
        return this.#escape("u");
      case "bigint":
        return this.#escape("b", "" + value);
      case "object":
        if (value === null) return "null";
        if (this.#seen.has(value)) return undefined;
        this.#seen.add(value);
        return this.#isArray(value) ? this.#array(value) : this.#object(value);
      default:
        return undefined;
    }
  }

  #escape(letter: string, payload = ""): string {
    this.#escaped = true;
    return this.#stringify(`\u0000${letter}${payload}`);
  }

  #array(value: unknown[]): string | undefined {
    if (this.#getPrototypeOf(value) !== this.#ARRAY) return undefined;
    const n = value.length;
    let text = "[";
    for (let i = 0; i < n; i++) {
      if (!(i in value)) return undefined;
      const item = this.#json(value[i]);
      if (item === undefined) return undefined;
      text += i === 0 ? item : "," + item;
    }
    // No hole (checked above), so more keys than items are extra
    // properties, which structured clone keeps.
    if (n > 0 && this.#keys(value).length !== n) return undefined;
    return text + "]";
  }

  #object(value: object): string | undefined {
    const proto = this.#getPrototypeOf(value);
    if (proto !== this.#OBJECT && proto !== null) return undefined;
    const descriptors = this.#getOwnPropertyDescriptors(value);
    let text = "{";
    for (const key of this.#keys(descriptors)) {
      const descriptor = descriptors[key];
      if (!descriptor.enumerable) continue;
      if (!("value" in descriptor)) return undefined;
      const item = this.#json(descriptor.value);
      if (item === undefined) return undefined;
      text += (text.length === 1 ? "" : ",") + this.#stringify(key) + ":" +
        item;
    }
    return text + "}";
  }
}

/**
 * The JSON path back, for text that holds escaped strings: a function that
 * turns them, in place, into what they stand for. Self-contained.
 */
export function jsonReviver(): (value: unknown) => unknown {
  // Taken now, before any task runs.
  const { keys } = Object;
  const toBigInt = BigInt;
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
  return revive;
}
