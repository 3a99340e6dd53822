// The process channel's framing: frames cut anywhere by the pipe's chunks
// come out whole and in order; bytes that are not a frame are refused.
import assert from "node:assert/strict";
import { framing } from "../../executor/_process/frame.ts";

function bodies(count: number): Uint8Array[] {
  return Array.from(
    { length: count },
    (_, i) => Uint8Array.from({ length: i * 7 + 1 }, (_, j) => (i + j) % 251),
  );
}

function joined(frames: Uint8Array[]): Uint8Array {
  const all = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
  let at = 0;
  for (const frame of frames) {
    all.set(frame, at);
    at += frame.length;
  }
  return all;
}

Deno.test("framing: frames cut at every position by two chunks come out whole", () => {
  const sent = bodies(5);
  const out = framing();
  const stream = joined(sent.map((body) => out.encode(body)));
  for (let cut = 0; cut <= stream.length; cut++) {
    const frames = framing();
    const got = [
      ...frames.decode(stream.slice(0, cut)),
      ...frames.decode(stream.slice(cut)),
    ].map((body) => Array.from(body));
    assert.deepEqual(got, sent.map((body) => Array.from(body)), `cut ${cut}`);
  }
});

Deno.test("framing: a stream fed a byte at a time gives the same frames", () => {
  const sent = bodies(4);
  const out = framing();
  const stream = joined(sent.map((body) => out.encode(body)));
  const frames = framing();
  const got: number[][] = [];
  for (let i = 0; i < stream.length; i++) {
    for (const body of frames.decode(stream.slice(i, i + 1))) {
      got.push(Array.from(body));
    }
  }
  assert.deepEqual(got, sent.map((body) => Array.from(body)));
});

Deno.test("framing: a 16 MB frame in 64 KB chunks is filled in place, not joined chunk by chunk", () => {
  const body = new Uint8Array(16 * 1024 * 1024);
  for (let i = 0; i < body.length; i += 4096) body[i] = i % 255;
  const stream = framing().encode(body);
  const frames = framing();
  const got: Uint8Array[] = [];
  const chunks = new Set<ArrayBufferLike>();
  for (let at = 0; at < stream.length; at += 64 * 1024) {
    for (const b of frames.decode(stream.subarray(at, at + 64 * 1024))) {
      got.push(b);
      chunks.add(b.buffer);
    }
  }
  assert.equal(got.length, 1);
  assert.equal(got[0].length, body.length);
  assert.ok(got[0].every((byte, i) => byte === body[i]));
  // One buffer of the body's size, made once: the body is its whole buffer.
  assert.equal(got[0].buffer.byteLength, body.length);
});

Deno.test("framing: bytes that are not a frame throw", () => {
  const frames = framing();
  assert.throws(
    () => frames.decode(new TextEncoder().encode("hello, world")),
    /garbage/,
  );
});
