// Runs in a process worker (a `deno` child): connects `workerMain` to the
// pool through framed messages (codec.ts) on stdin (from the pool) and
// stdout (to the pool). Shipped as source text, so it is self-contained.
import type { Endpoint } from "../_worker/endpoint.ts";
import type { InitMessage, Protocol, ToWorker } from "../_wire/protocol.ts";
import type { codec, V8 } from "./codec.ts";
import type { framing } from "./frame.ts";

/**
 * Reads the init frame, then task frames, from stdin and hands `start` an
 * endpoint that writes frames to stdout. Whatever a task prints goes to
 * stderr, so it cannot corrupt the channel.
 *
 * @param start `workerMain`'s start.
 * @param makeFraming The channel's framing (frame.ts).
 * @param makeCodec The channel's codec (codec.ts).
 * @param P The protocol constants.
 * @param rest The channel's first bytes, read by the loader (loader.ts).
 */
export function connectStdio(
  start: (endpoint: Endpoint, init: InitMessage) => void,
  makeFraming: typeof framing,
  makeCodec: typeof codec,
  P: Protocol,
  rest: Uint8Array,
): void {
  const exit = Deno.exit;
  const stdout = Deno.stdout;
  const writeOut = stdout.writeSync.bind(stdout);
  const stderr = Deno.stderr;
  // A task's own output must never reach the channel.
  const toStderr = (data: Uint8Array): number => stderr.writeSync(data);
  Object.defineProperty(stdout, "writeSync", { value: toStderr });
  Object.defineProperty(stdout, "write", {
    value: (data: Uint8Array) => Promise.resolve(toStderr(data)),
  });
  // Nor close it: the pool would hear nothing more, and see no end either
  // (closing Deno's stdout leaves fd 1 open).
  Object.defineProperty(stdout, "close", { value: () => {} });
  for (const method of ["log", "info", "debug", "dir", "table"] as const) {
    (console as unknown as Record<string, unknown>)[method] = console.error;
  }
  // Taken before any task runs: workerMain then closes stdin to tasks.
  // Read with the plain op, not the stream: a chunk's way through the
  // stream costs a round trip ~30 µs more.
  const stdin = Deno.stdin;
  const read = stdin.read.bind(stdin);
  const chunk = new Uint8Array(64 * 1024);
  const out = makeFraming();
  const frames = makeFraming();

  // node:v8 is loaded once the first messages are handled (importing it
  // costs ~7 ms), or at once for a message that needs it; until then
  // messages go as JSON when JSON carries them exactly (codec.ts).
  let v8: V8 | undefined;
  let loading: Promise<unknown> | undefined;
  const load = () => loading ??= import("node:v8").then((m) => (v8 ??= m));
  // A message JSON cannot carry, before the import is done: node's
  // getBuiltinModule loads it now (~20 ms, once). (Not nodeBuiltin: this
  // file is shipped as source text, and imports nothing.)
  const now = () =>
    v8 ??= (globalThis as unknown as {
      process: { getBuiltinModule(name: string): V8 };
    }).process.getBuiltinModule("node:v8");
  const channel = makeCodec(P, now, () => v8 !== undefined);
  const endpoint: Endpoint = {
    onmessage: null,
    postMessage(message) {
      const frame = out.encode(channel.encode(message));
      try {
        for (let done = 0; done < frame.length;) {
          done += writeOut(frame.subarray(done));
        }
      } catch {
        // The channel is gone: a worker that cannot report must go, so
        // that the pool sees it die.
        exit(70);
      }
    },
  };
  let started = false;
  const pump = async (): Promise<void> => {
    let bytes = rest;
    while (true) {
      // The bodies may be views of `chunk`: each is decoded before the
      // next read.
      for (const body of frames.decode(bytes)) {
        if (channel.needsV8(body)) await load();
        const message = channel.decode(body);
        if (!started) {
          started = true;
          start(endpoint, message as InitMessage);
        } else {
          endpoint.onmessage?.({ data: message as ToWorker } as MessageEvent);
        }
      }
      // What came is handled (a task that awaits is still running): time
      // to load node:v8, off the first task's way.
      // (A failure shows where a message needs it.)
      if (loading === undefined) setTimeout(() => load().catch(() => {}), 0);
      const n = await read(chunk);
      // The pool is gone: so is this worker.
      if (n === null) return exit(0);
      bytes = chunk.subarray(0, n);
    }
  };
  pump();
}
