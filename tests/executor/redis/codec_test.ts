// The bytes of a Redis entry (executor/redis/_wire/codec.ts): node:v8
// values, and errors carried as the pools' records (toRecord / fromRecord).
import assert from "node:assert/strict";
import {
  decode,
  encode,
  encodedOver,
  encodeText,
} from "../../../executor/redis/_wire/codec.ts";
import { fromRecord, toRecord } from "../../../executor/_wire/error_record.ts";
import type {
  ErrorRecord,
  RawThrow,
} from "../../../executor/_wire/protocol.ts";

Deno.test("encode() and decode() carry toRecord's records, non-errors and values v8 cannot clone", () => {
  const raw = toRecord(42) as RawThrow;
  assert.deepEqual(decode(encode(raw)), { error: false, value: 42 });
  const withFunction = new Error("f", { cause: () => 1 });
  const record = decode<ErrorRecord>(encode(toRecord(withFunction)));
  assert.equal(typeof record.cause, "string");
  const dom = fromRecord(
    decode(encode(toRecord(new DOMException("gone", "AbortError")))),
  );
  assert.ok(dom instanceof DOMException);
  assert.equal(dom.name, "AbortError");
  assert.throws(() => encode({ f() {} }), TypeError);
  assert.throws(
    () => decode(new Uint8Array([1, 2, 3])),
    /Cannot decode a 3-byte Redis entry/,
  );
});

// The first byte of an entry that went as JSON text; node:v8's is 0xff.
const JSON_TAG = 0;

Deno.test("encode() writes a small record of plain values as JSON text, and decode() reads it back", () => {
  const record = {
    taskId: 7,
    executorId: "e-1",
    fn: { kind: "source", source: "(n) => n + 1" },
    args: [1.5, "two \u{1F600} \ud800", true, null, [], {}, [[1], { a: [2] }]],
    chunk: 0,
  };
  const bytes = encode(record);
  assert.equal(bytes[0], JSON_TAG);
  assert.deepEqual(decode(bytes), record);
  // A node's batch of 500 replies too.
  const replies = Array.from({ length: 500 }, (_, taskId) => ({
    kind: "result",
    taskId,
    nodeId: "n-1",
    ok: true,
    value: "é".repeat(taskId % 3),
    ms: 0.25,
  }));
  const batch = encode(replies);
  assert.equal(batch[0], JSON_TAG);
  assert.deepEqual(decode(batch), replies);
  // An object's own "__proto__" stays an own property.
  const proto = JSON.parse('{"__proto__": 1}');
  const back = decode<Record<string, unknown>>(encode(proto));
  assert.equal(Object.getPrototypeOf(back), Object.prototype);
  assert.ok(Object.hasOwn(back, "__proto__"));
});

Deno.test("encode() keeps structured-clone fidelity: whatever JSON would change goes as node:v8", () => {
  class Point {
    constructor(readonly x: number) {}
  }
  const holey = [1, , 3];
  const extra = Object.assign([1, 2], { note: "kept" });
  const cases: [string, unknown][] = [
    ["undefined", undefined],
    ["NaN", NaN],
    ["Infinity", -Infinity],
    ["-0", -0],
    ["bigint", 10n],
    ["Map", new Map([[1, 2]])],
    ["Date", new Date(0)],
    ["a class instance", new Point(1)],
    ["a hole", holey],
    ["an array's own property", extra],
    ["a long string", "x".repeat(1 << 20)],
    ["many values", Array.from({ length: 10_000 }, (_, i) => i)],
    [
      "an object met twice",
      (() => {
        const shared = { n: 1 };
        return [shared, shared];
      })(),
    ],
  ];
  for (const [name, value] of cases) {
    const bytes = encode({ args: [value] });
    assert.equal(bytes[0], 0xff, name);
    const [back] = decode<{ args: unknown[] }>(bytes).args;
    assert.deepEqual(back, structuredClone(value), name);
    if (typeof value === "number") assert.ok(Object.is(back, value), name);
  }
  // The sharing survives, as structured clone keeps it.
  const shared = { n: 1 };
  const [a, b] =
    decode<{ args: unknown[][] }>(encode({ args: [[shared, shared]] }))
      .args[0];
  assert.ok(a === b);
});

Deno.test("encode() runs a getter once and refuses a Proxy, as structured clone does", () => {
  let reads = 0;
  const withGetter = {
    get value() {
      reads++;
      return 1;
    },
  };
  const back = decode<{ args: [{ value: number }] }>(
    encode({ args: [withGetter] }),
  );
  assert.equal(reads, 1);
  assert.deepEqual(back.args[0], { value: 1 });
  assert.throws(
    () => encode({ args: [new Proxy({ a: 1 }, {})] }),
    TypeError,
  );
  assert.throws(() => structuredClone(new Proxy({ a: 1 }, {})));
});

Deno.test("decode() names an entry that is neither JSON text nor node:v8", () => {
  assert.throws(
    () => decode(new Uint8Array([JSON_TAG, 0x7b, 0x7b])),
    /Cannot decode a 3-byte Redis entry/,
  );
  assert.throws(
    () => decode(new Uint8Array([JSON_TAG, 0xc3, 0x28])),
    /Cannot decode a 3-byte Redis entry/,
  );
});

Deno.test("encodeText() gives a JSON record as text whose UTF-8 bytes are encode()'s, and encodedOver() counts those bytes", () => {
  const record = { args: ["héllo", 1], taskId: 3 };
  const text = encodeText(record);
  assert.equal(typeof text, "string");
  const bytes = new TextEncoder().encode(text as string);
  assert.deepEqual(bytes, encode(record));
  assert.deepEqual(decode(bytes), record);
  // Any other record comes as node:v8 bytes, as from encode().
  assert.ok(encodeText({ args: [undefined] }) instanceof Uint8Array);
  // 32 characters, 61 bytes.
  const accented = encodeText("é".repeat(29)) as string;
  assert.equal(accented.length, 32);
  assert.equal(encodedOver(accented, 40), true);
  assert.equal(encodedOver(accented, 70), false);
  assert.equal(encodedOver("\u0000" + "x".repeat(50), 40), true);
  assert.equal(encodedOver(new Uint8Array(41), 40), true);
  assert.equal(encodedOver(new Uint8Array(40), 40), false);
});
