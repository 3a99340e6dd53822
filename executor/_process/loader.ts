// Runs in a process worker (a `deno` child) first: the child's whole
// program, shipped as a tiny data: URL. It reads the worker side's source
// from the first frame on stdin and runs it. (A `deno run` of a 31 KB data:
// URL costs ~5 ms more than one of a few hundred bytes, while compiling the
// same source from a string costs ~0.5 ms.) Self-contained: shipped as
// source text.

/**
 * Reads one frame (MAGIC, u32 length, UTF-8 source) from stdin, and runs
 * the source as a function body given `rest`, the bytes read past it (the
 * first frames of the channel).
 */
export function loadFromStdin(): void {
  const MAGIC = [0xcf, 0x46, 0x55, 0x01];
  const chunk = new Uint8Array(64 * 1024);
  let have = new Uint8Array(0);
  const more = async (): Promise<boolean> => {
    const n = await Deno.stdin.read(chunk);
    if (n === null) return false;
    const joined = new Uint8Array(have.length + n);
    joined.set(have);
    joined.set(chunk.subarray(0, n), have.length);
    have = joined;
    return true;
  };
  (async () => {
    while (have.length < 8) if (!await more()) return;
    if (MAGIC.some((byte, i) => have[i] !== byte)) Deno.exit(70);
    const size = new DataView(have.buffer).getUint32(4, true);
    while (have.length < 8 + size) if (!await more()) return;
    const source = new TextDecoder().decode(have.subarray(8, 8 + size));
    new Function("rest", source)(have.subarray(8 + size));
  })();
}
