// Runs on the pool side: a process worker is a `deno` child running
// `workerMain` connected by `connectStdio`, reached through framed
// messages (codec.ts) on its stdin and stdout. A dead child, garbage on the
// channel, or a channel lost while the child lives, is reported as `died`.
import { nodeBuiltin } from "../_pool/node_builtin.ts";
import type { V8 } from "./codec.ts";
import { type FromWorker, PROTOCOL } from "../_wire/protocol.ts";
import { workerSource } from "../_worker/source.ts";
import type {
  SpawnWorker,
  WorkerEvents,
  WorkerHandle,
} from "../_pool/transport.ts";
import { connectStdio } from "./child.ts";
import { codec, codecSource } from "./codec.ts";
import { framing } from "./frame.ts";
import { loadFromStdin } from "./loader.ts";
import { type Reaper, startReaper } from "./reaper.ts";

// After SIGTERM, a child gets this long before SIGKILL: a task stuck in a
// synchronous loop never handles SIGTERM, and must still stop.
const KILL_GRACE_MS = 200;
// How much of a child's stdout one read takes (a pipe holds 64 KB).
const READ_BYTES = 64 * 1024;
const NAMES = [
  "read",
  "write",
  "net",
  "env",
  "run",
  "ffi",
  "sys",
  "import",
] as const;

// The child program is a ~2 KB data: URL, so it loads with no
// permission and from wherever this module was imported from. It reads the
// worker side from the first frame on its stdin (loader.ts).
const PROGRAM_URL = `data:application/javascript,${
  encodeURIComponent(`(${loadFromStdin})();`)
}`;
let sourceFrame: Uint8Array | undefined;
// node:v8 is imported once a process pool is made, not with this module
// (_pool/node_builtin.ts); a message JSON cannot carry before the import is
// done loads it at once.
let v8: V8 | undefined;
let loadingV8: Promise<unknown> | undefined;
const loadV8 = () =>
  loadingV8 ??= import("node:v8").then((module) => v8 ??= module);
const channel = codec(
  PROTOCOL,
  () => v8 ??= nodeBuiltin<V8>("node:v8"),
  () => v8 !== undefined,
);

function workerSourceFrame(): Uint8Array {
  sourceFrame ??= framing().encode(
    new TextEncoder().encode(
      `"use strict";\n${
        workerSource(
          `(start) => (${connectStdio})(start, ${framing}, ${codecSource()}, ${
            JSON.stringify(PROTOCOL)
          }, rest)`,
        )
      }`,
    ),
  );
  return sourceFrame;
}

/**
 * `--allow-*` flags for a permission set (`undefined`: inherit what this
 * program has, permission by permission).
 */
export function permissionFlags(
  permissions: Deno.PermissionOptions | undefined,
): string[] {
  if (permissions === "none") return [];
  const flags: string[] = [];
  for (const name of NAMES) {
    const grant = permissions === undefined || permissions === "inherit"
      ? "inherit"
      : permissions[name];
    if (grant === true) flags.push(`--allow-${name}`);
    else if (Array.isArray(grant) && grant.length > 0) {
      flags.push(`--allow-${name}=${grant.join(",")}`);
    } else if (grant === "inherit") {
      // Only a whole permission can be inherited: Deno cannot list the
      // paths or hosts of a partial grant.
      const state = Deno.permissions.querySync(
        { name } as Deno.PermissionDescriptor,
      );
      if (state.state === "granted") flags.push(`--allow-${name}`);
    }
  }
  return flags;
}

/** Starts `deno` child processes; `close` ends their reaper. */
export function processSpawner(
  options: { flags: string[]; memoryLimit?: number; scoped: boolean },
): SpawnWorker & { close(): Promise<void> } {
  // Started now, awaited where a message needs it (a failure shows there).
  loadV8().catch(() => {});
  let reaper: Reaper | undefined;
  const args = [
    "run",
    "--no-prompt",
    "--no-config",
    "--quiet",
    ...options.flags,
  ];
  if (options.memoryLimit !== undefined) {
    args.push(`--v8-flags=--max-old-space-size=${options.memoryLimit}`);
  }
  args.push(PROGRAM_URL);
  const start: SpawnWorker = ({ initializer, initargs }, events) => {
    reaper ??= startReaper();
    const child = new ChildWorker(args, reaper, events, options.memoryLimit);
    child.send({ initializer, initargs, scoped: options.scoped });
    return child;
  };
  return Object.assign(start, {
    close: async () => {
      const closing = reaper;
      reaper = undefined;
      await closing?.close();
    },
  });
}

// How V8 starts the report it prints when a heap runs out ("<--- Last few
// GCs --->", then "# Fatal JavaScript out of memory"; Deno 2.9.6).
const OUT_OF_MEMORY =
  /^(<--- Last few GCs --->|# Fatal JavaScript out of memory)/m;

/**
 * Copies a child's stderr (its tasks' console output) to this program's,
 * line by line, until V8's out-of-memory report begins: that is dropped,
 * since the task's error already says what happened.
 *
 * @returns Whether the child ran out of memory.
 */
async function forwardStderr(
  stderr: ReadableStream<Uint8Array>,
): Promise<boolean> {
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  let pending = "";
  let outOfMemory = false;
  for await (const chunk of stderr) {
    if (outOfMemory) continue; // read to the end, so the child never blocks
    pending += decoder.decode(chunk, { stream: true });
    const found = OUT_OF_MEMORY.exec(pending);
    if (found !== null) outOfMemory = true;
    const end = found !== null ? found.index : pending.lastIndexOf("\n") + 1;
    if (end > 0) {
      await Deno.stderr.write(encoder.encode(pending.slice(0, end)))
        .catch(() => {});
    }
    pending = found !== null ? "" : pending.slice(end);
  }
  pending += decoder.decode();
  if (pending !== "" && !outOfMemory) {
    await Deno.stderr.write(encoder.encode(pending)).catch(() => {});
  }
  return outOfMemory;
}

// One child process, as the pool's WorkerHandle.
class ChildWorker implements WorkerHandle {
  readonly #child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #frames = framing();
  readonly #events: WorkerEvents;
  // The pool still hears it: not terminated, not reported dead.
  #alive = true;
  // Why it is being killed, when the pool did not ask.
  #reason = "";
  #graceTimer: ReturnType<typeof setTimeout> | undefined;
  #closing: ReturnType<typeof setTimeout> | undefined;
  // Settles once the child has exited and its stdout is read.
  readonly #exited: Promise<void>;

  constructor(
    args: string[],
    reaper: Reaper,
    events: WorkerEvents,
    memoryLimit: number | undefined,
  ) {
    this.#events = events;
    this.#child = new Deno.Command(Deno.execPath(), {
      args,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const pid = this.#child.pid;
    reaper.watch(pid);
    this.#writer = this.#child.stdin.getWriter();
    this.#writer.write(workerSourceFrame()).catch(() => {});
    const reading = this.#read();
    const stderr = forwardStderr(this.#child.stderr);
    this.#exited = Promise.all([this.#child.status, reading, stderr]).then(
      ([status, , outOfMemory]) => {
        clearTimeout(this.#graceTimer);
        clearTimeout(this.#closing);
        reaper.forget(pid);
        this.#writer.close().catch(() => {});
        if (!this.#alive) return;
        this.#alive = false;
        events.died(
          outOfMemory
            ? `the process ran out of memory (memoryLimit: ${
              memoryLimit ?? "none"
            } MB)`
            : this.#reason ||
              (status.signal
                ? `the process was killed by ${status.signal}`
                : `the process exited with code ${status.code}`),
        );
      },
    );
  }

  send(message: unknown): void {
    let body: Uint8Array;
    try {
      body = channel.encode(message);
    } catch (error) {
      // node:v8 says "could not be cloned" with a plain Error; a getter's
      // own error goes as it is.
      throw error instanceof Error && error.constructor === Error &&
          / could not be cloned\.$/.test(error.message)
        ? new DOMException(error.message, "DataCloneError")
        : error;
    }
    this.#writer.write(this.#frames.encode(body)).catch(() => {});
  }

  terminate(): Promise<void> {
    if (this.#alive) {
      this.#alive = false;
      this.#kill();
    }
    return this.#exited;
  }

  // Frames in, until stdout ends. Anything else on it (garbage, a frame
  // that does not deserialize) ends the child; so does stdout closing while
  // the child lives, since it can no longer report.
  // (A reader, not `for await`: the iterator costs a promise hop a chunk,
  // ~20 µs of a round trip. A BYOB reader into one buffer, not the default
  // reader, which allocates a new 64 KB buffer a read: a raw echo child's
  // round trip takes ~25 µs less, ~35 µs less pinned to one CPU.)
  async #read(): Promise<void> {
    const reader = this.#child.stdout.getReader({ mode: "byob" });
    // Moved into each read and back with its chunk; the frames a chunk
    // holds are views of it, each decoded before the next read.
    let buffer = new ArrayBuffer(READ_BYTES);
    try {
      for (;;) {
        const { done, value: chunk } = await reader.read(
          new Uint8Array(buffer),
        );
        if (done) break;
        buffer = chunk.buffer as ArrayBuffer;
        for (const frame of this.#frames.decode(chunk)) {
          if (channel.needsV8(frame)) await loadV8();
          const message = channel.decode(frame) as FromWorker;
          if (this.#alive) this.#events.message(message);
        }
      }
      // The child is exiting, or closed stdout and can no longer report.
      this.#closing = setTimeout(() => {
        this.#reason ||= "the process closed its channel";
        this.#kill();
      }, KILL_GRACE_MS);
    } catch (error) {
      this.#reason ||= error instanceof Error &&
          /^the process/.test(error.message)
        ? error.message
        : `the process wrote garbage on the channel: ${error}`;
      this.#kill();
      // Nothing more is read: the stream is let go (its resource closed).
      await reader.cancel().catch(() => {});
    }
  }

  // SIGTERM, then SIGKILL after a grace: a task stuck in a synchronous loop
  // never handles SIGTERM, and must still stop.
  #kill(): void {
    const signal = (name: Deno.Signal) => {
      try {
        this.#child.kill(name);
      } catch {
        // Already gone.
      }
    };
    signal("SIGTERM");
    this.#graceTimer ??= setTimeout(() => signal("SIGKILL"), KILL_GRACE_MS);
  }
}
