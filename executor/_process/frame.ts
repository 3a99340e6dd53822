// Both ends of a process worker's channel: messages framed on a byte stream
// (the child's stdin and stdout). Frame: MAGIC (4 bytes), the body's length
// (u32, little endian), the body (codec.ts: JSON or node:v8). Self-contained:
// the child gets it as source text.

/** Frames out and in. */
export interface Framing {
  /** One frame around `body`. */
  encode(body: Uint8Array): Uint8Array;
  /**
   * Takes the next chunk of the stream and returns the bodies it completes.
   * Throws on bytes that are not a frame.
   */
  decode(chunk: Uint8Array): Uint8Array[];
}

/** Makes a framer: one per stream, since it keeps a partial frame. */
export function framing(): Framing {
  const MAGIC = [0xcf, 0x46, 0x55, 0x01];
  const EMPTY = new Uint8Array(0);
  // A header cut by a chunk's end, kept until the next chunk.
  let head = EMPTY;
  // A body cut by a chunk's end: allocated whole once its header is read,
  // then filled by the chunks that follow (never joined chunk by chunk,
  // which costs the square of a large frame's size).
  let body: Uint8Array | undefined;
  let filled = 0;
  return {
    encode(bytes) {
      const frame = new Uint8Array(8 + bytes.length);
      frame.set(MAGIC);
      new DataView(frame.buffer).setUint32(4, bytes.length, true);
      frame.set(bytes, 8);
      return frame;
    },
    decode(chunk) {
      const bodies: Uint8Array[] = [];
      let bytes = chunk;
      let at = 0;
      if (body !== undefined) {
        const take = Math.min(body.length - filled, bytes.length);
        body.set(bytes.subarray(0, take), filled);
        filled += take;
        at = take;
        if (filled < body.length) return bodies;
        bodies.push(body);
        body = undefined;
      }
      if (head.length > 0) {
        const joined = new Uint8Array(head.length + bytes.length - at);
        joined.set(head);
        joined.set(bytes.subarray(at), head.length);
        bytes = joined;
        at = 0;
        head = EMPTY;
      }
      // Most chunks hold whole frames: their bodies are views, not copies.
      while (bytes.length - at >= 8) {
        if (MAGIC.some((byte, i) => bytes[at + i] !== byte)) {
          throw new Error("the process wrote garbage on the channel");
        }
        const size = new DataView(bytes.buffer, bytes.byteOffset + at)
          .getUint32(4, true);
        const start = at + 8;
        if (bytes.length - start >= size) {
          bodies.push(bytes.subarray(start, start + size));
          at = start + size;
          continue;
        }
        body = new Uint8Array(size);
        body.set(bytes.subarray(start));
        filled = bytes.length - start;
        return bodies;
      }
      if (at < bytes.length) head = bytes.slice(at);
      return bodies;
    },
  };
}
