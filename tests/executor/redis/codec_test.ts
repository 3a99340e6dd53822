// The bytes of a Redis entry (executor/redis/_wire/codec.ts): node:v8
// values, and errors carried as the pools' records (toRecord / fromRecord).
import assert from "node:assert/strict";
import { decode, encode } from "../../../executor/redis/_wire/codec.ts";
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
