// Child side of a process worker's transport: framed `node:v8` messages on
// stdin (from the pool) and stdout (to the pool). Shipped as source text
// with `workerMain`, so it must be self-contained.
import type { Endpoint } from "./_worker.ts";
import type { InitMessage, ToWorker } from "./_protocol.ts";

/**
 * Reads the init frame, then task frames, from stdin and hands
 * `workerMain`'s `start` an endpoint that writes frames to stdout. Whatever a
 * task prints goes to stderr, so it cannot corrupt the channel.
 */
export function connectStdio(
  start: (endpoint: Endpoint, init: InitMessage) => void,
): void {
  // Frame: MAGIC (4 bytes) + body length (u32, little endian) + body.
  const MAGIC = [0xcf, 0x46, 0x55, 0x01];
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
  const reader = Deno.stdin.readable.getReader();

  import("node:v8").then((v8) => {
    const endpoint: Endpoint = {
      onmessage: null,
      postMessage(message) {
        const body = v8.serialize(message);
        const frame = new Uint8Array(8 + body.length);
        frame.set(MAGIC);
        new DataView(frame.buffer).setUint32(4, body.length, true);
        frame.set(body, 8);
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
    let buffer = new Uint8Array(0);
    const pump = async (): Promise<void> => {
      while (true) {
        const { done, value } = await reader.read();
        // The pool is gone: so is this worker.
        if (done) return exit(0);
        const joined = new Uint8Array(buffer.length + value.length);
        joined.set(buffer);
        joined.set(value, buffer.length);
        buffer = joined;
        while (buffer.length >= 8) {
          const size = new DataView(buffer.buffer, buffer.byteOffset)
            .getUint32(4, true);
          if (buffer.length < 8 + size) break;
          const message = v8.deserialize(buffer.subarray(8, 8 + size));
          buffer = buffer.slice(8 + size);
          if (!started) {
            started = true;
            start(endpoint, message as InitMessage);
          } else {
            endpoint.onmessage?.({ data: message as ToWorker } as MessageEvent);
          }
        }
      }
    };
    pump();
  });
}
