// Both ends of a process worker's channel: messages framed on a byte stream
// (the child's stdin and stdout). Frame: MAGIC (4 bytes), the body's length
// (u32, little endian), the body (a node:v8 serialization). Self-contained:
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
  let buffer = EMPTY;
  return {
    encode(body) {
      const frame = new Uint8Array(8 + body.length);
      frame.set(MAGIC);
      new DataView(frame.buffer).setUint32(4, body.length, true);
      frame.set(body, 8);
      return frame;
    },
    decode(chunk) {
      // Most chunks hold whole frames: copy only a partial one kept over.
      let bytes = chunk;
      if (buffer.length > 0) {
        bytes = new Uint8Array(buffer.length + chunk.length);
        bytes.set(buffer);
        bytes.set(chunk, buffer.length);
      }
      const bodies: Uint8Array[] = [];
      let at = 0;
      while (bytes.length - at >= 8) {
        if (MAGIC.some((byte, i) => bytes[at + i] !== byte)) {
          throw new Error("the process wrote garbage on the channel");
        }
        const size = new DataView(bytes.buffer, bytes.byteOffset + at)
          .getUint32(4, true);
        if (bytes.length - at < 8 + size) break;
        bodies.push(bytes.subarray(at + 8, at + 8 + size));
        at += 8 + size;
      }
      buffer = at === bytes.length ? EMPTY : bytes.slice(at);
      return bodies;
    },
  };
}
