// Runs on the pool side: a process worker is a `deno` child running
// `workerMain` connected by `connectStdio`, reached through framed
// `node:v8` messages on its stdin and stdout. A dead child, garbage on the
// channel, or a channel lost while the child lives, is reported as `died`.
import { deserialize, serialize } from "node:v8";
import { workerSource } from "../_worker/source.ts";
import type { SpawnWorker } from "../_pool/transport.ts";
import { connectStdio } from "./child.ts";
import { framing } from "./frame.ts";
import { type Reaper, startReaper } from "./reaper.ts";

// After SIGTERM, a child gets this long before SIGKILL: a task stuck in a
// synchronous loop never handles SIGTERM, and must still stop.
const KILL_GRACE_MS = 200;
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

let childUrl: string | undefined;

// The child program ships as a data: URL, so it loads with no permission
// and from wherever this module was imported from.
function programUrl(): string {
  if (childUrl === undefined) {
    const source = workerSource(
      `(start) => (${connectStdio})(start, ${framing})`,
    );
    const bytes = new TextEncoder().encode(source);
    let binary = "";
    for (const byte of bytes) binary += String.fromCharCode(byte);
    childUrl = `data:application/javascript;base64,${btoa(binary)}`;
  }
  return childUrl;
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

/** Starts `deno` child processes. */
export function processSpawner(
  options: { flags: string[]; memoryLimit?: number; scoped: boolean },
): SpawnWorker & { close(): Promise<void> } {
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
  const start: SpawnWorker = ({ initializer, initargs }, events) => {
    const child = new Deno.Command(Deno.execPath(), {
      args: [...args, programUrl()],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    reaper ??= startReaper();
    const watcher = reaper;
    watcher.watch(child.pid);
    const writer = child.stdin.getWriter();
    let alive = true;
    let reason = "";
    const frames = framing();
    const send = (message: unknown) => {
      writer.write(frames.encode(serialize(message))).catch(() => {});
    };
    let graceTimer: ReturnType<typeof setTimeout> | undefined;
    let closing: ReturnType<typeof setTimeout> | undefined;
    const kill = () => {
      try {
        child.kill("SIGTERM");
        graceTimer ??= setTimeout(() => {
          try {
            child.kill("SIGKILL");
          } catch {
            // Already gone.
          }
        }, KILL_GRACE_MS);
      } catch {
        // Already gone.
      }
    };
    // Frames in, until stdout ends. Anything else on it (garbage, a frame
    // that does not deserialize) ends the child; so does stdout closing
    // while the child lives, since it can no longer report.
    const reading = (async () => {
      for await (const chunk of child.stdout) {
        for (const frame of frames.decode(chunk)) {
          const message = deserialize(frame);
          if (alive) events.message(message);
        }
      }
      // stdout ended: the child is exiting, or it closed stdout and can no
      // longer report.
      closing = setTimeout(() => {
        reason ||= "the process closed its channel";
        kill();
      }, KILL_GRACE_MS);
    })().catch((error) => {
      reason ||= error instanceof Error && /^the process/.test(error.message)
        ? error.message
        : `the process wrote garbage on the channel: ${error}`;
      kill();
    });
    const exited = Promise.all([child.status, reading]).then(([status]) => {
      clearTimeout(graceTimer);
      clearTimeout(closing);
      watcher.forget(child.pid);
      writer.close().catch(() => {});
      if (!alive) return;
      alive = false;
      events.died(
        reason ||
          (status.signal
            ? `the process was killed by ${status.signal}`
            : `the process exited with code ${status.code}`),
      );
    });
    send({ initializer, initargs, scoped: options.scoped });
    return {
      pid: child.pid,
      send(message) {
        try {
          send(message);
        } catch (error) {
          // node:v8 says "could not be cloned" with a plain Error; a getter's
          // own error goes as it is.
          throw error instanceof Error && error.constructor === Error &&
              / could not be cloned\.$/.test(error.message)
            ? new DOMException(error.message, "DataCloneError")
            : error;
        }
      },
      terminate() {
        if (alive) {
          alive = false;
          kill();
        }
        return exited;
      },
    };
  };
  return Object.assign(start, {
    close: async () => {
      const closing = reaper;
      reaper = undefined;
      await closing?.close();
    },
  });
}
