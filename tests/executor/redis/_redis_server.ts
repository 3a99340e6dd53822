// A private `redis-server` per test: a free 127.0.0.1 port, persistence off
// (or an append-only file, synced at every write, kept across restarts), a
// temp dir, and a watchdog so the server never outlives the test program.
//
//   test program ──spawn──> sh (watchdog) ──&──> redis-server
//        │ stdin pipe            │ reads stdin; on EOF (the program died,
//        │                       │ even by SIGKILL) it SIGKILLs the server
//        │                       │ and removes its temp dir
//        └── reads the server's pid from sh's first stdout line
//
// The watchdog's exit status is the server's (`wait`), so `exited` tells when
// the server itself is gone.

/** How long a server may take to answer PING before `startRedis` gives up. */
const START_DEADLINE_MS = 10_000;
/** How long `stop()` waits for SIGTERM before it sends SIGKILL. */
const STOP_GRACE_MS = 3_000;

/** A `redis-server` this program started; dispose it to stop it. */
export interface RedisServer extends AsyncDisposable {
  /** `redis://127.0.0.1:PORT`. */
  readonly url: string;
  /** The server's TCP port on 127.0.0.1. */
  readonly port: number;
  /** Whether the server process is running now. */
  readonly running: boolean;
  /** Resolves when the current server process has exited. */
  readonly exited: Promise<void>;
  /** Stops the server; leaves no process and no temp dir. Idempotent. */
  stop(): Promise<void>;
  /** Sends `signal` to the server process (not its watchdog). */
  kill(signal: Deno.Signal): void;
  /**
   * Waits for the old process to end, then serves the same port again: with
   * `persist`, from the data it had; else empty.
   */
  restart(): Promise<void>;
}

/** How to start a server. */
export interface RedisServerOptions {
  /**
   * Keep the data in an append-only file synced at every write, so a
   * restart — even after SIGKILL — comes back with it.
   *
   * @default {false}
   */
  persist?: boolean;
}

// Runs the server under `sh` (arguments: its temp dir, then the server's):
// the first stdout line is its pid; stdin's end kills it and removes the dir
// (fd 3 carries stdin into the background reader, which sh would otherwise
// point at /dev/null); REMOVE=0 keeps the dir for the next process.
const WATCHDOG = `
dir=$1
shift
exec 3<&0
redis-server "$@" </dev/null >/dev/null 3<&- &
server=$!
echo "$server"
{ while read -r _ <&3; do :; done; kill -9 "$server" 2>/dev/null; [ "$REMOVE" = 0 ] || rm -rf "$dir"; } &
reader=$!
wait "$server"
code=$?
kill "$reader" 2>/dev/null
exit "$code"
`;

interface Running {
  child: Deno.ChildProcess;
  /** Its temp dir (without persist, a restart gets a new one). */
  dir: string;
  pid: number;
  stdin: WritableStreamDefaultWriter<Uint8Array>;
  stderr: Promise<string>;
  stdout: Promise<void>;
  exited: Promise<void>;
  done: boolean;
}

/** Whether `redis-server` is on PATH. */
export function redisAvailable(): boolean {
  const path = Deno.env.get("PATH") ?? "";
  return path.split(":").some((dir) => {
    try {
      return dir !== "" && Deno.statSync(`${dir}/redis-server`).isFile;
    } catch {
      return false;
    }
  });
}

let warned = false;

/**
 * Whether the Redis tests can run: use as `ignore: !requireRedis()`.
 *
 * @returns true when `redis-server` is on PATH; false (after one line on
 * stderr) when it is not and `CI` is not `true`.
 * @throws {Error} when `redis-server` is missing and `CI=true`: CI must run
 * these tests, never skip them.
 */
export function requireRedis(): boolean {
  if (redisAvailable()) return true;
  if (Deno.env.get("CI") === "true") {
    throw new Error(
      "redis-server not found on PATH under CI=true: .ci/run must install it (apt-get install redis-server)",
    );
  }
  if (!warned) {
    warned = true;
    console.error(
      "Redis tests SKIPPED: redis-server not found on PATH; install it with `apt-get install redis-server`",
    );
  }
  return false;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

// One PING over a fresh TCP connection: true on +PONG.
async function ping(port: number): Promise<boolean> {
  let conn: Deno.TcpConn | undefined;
  try {
    conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(new TextEncoder().encode("PING\r\n"));
    const buffer = new Uint8Array(64);
    const n = await conn.read(buffer);
    return n !== null &&
      new TextDecoder().decode(buffer.subarray(0, n)).startsWith("+PONG");
  } catch {
    return false;
  } finally {
    conn?.close();
  }
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<string> {
  let text = "";
  const decoder = new TextDecoder();
  for await (const chunk of stream) {
    text += decoder.decode(chunk, { stream: true });
  }
  return text + decoder.decode();
}

// Resolves `pid` with the first line; `done` once the stream has ended.
function firstLine(
  stream: ReadableStream<Uint8Array>,
): { line: Promise<string>; done: Promise<void> } {
  const { promise: line, resolve } = Promise.withResolvers<string>();
  const done = (async () => {
    let text = "";
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      text += decoder.decode(chunk, { stream: true });
      if (text.includes("\n")) resolve(text.split("\n")[0]);
    }
    resolve(text);
  })();
  return { line, done };
}

function logTail(dir: string): string {
  try {
    return Deno.readTextFileSync(`${dir}/redis.log`).split("\n").slice(-15)
      .join("\n");
  } catch {
    return "(no log)";
  }
}

/**
 * Starts a private `redis-server` on a free 127.0.0.1 port, persistence off,
 * in a temp dir, and waits until it answers PING.
 *
 * @returns the running server; `stop()` or `await using` ends it.
 * @throws {Error} naming the port, the server's stderr and its log tail when it
 * does not answer PING within 10 s.
 */
export async function startRedis(
  options: RedisServerOptions = {},
): Promise<RedisServer> {
  const { persist = false } = options;
  const port = freePort();
  let current: Running | undefined;
  // With persist, every process of this server uses one dir, removed at stop.
  let kept: string | undefined;

  async function spawn(): Promise<void> {
    const prefix = "concurrent-futures-redis-";
    const dir = persist
      ? kept ??= await Deno.makeTempDir({ prefix })
      : await Deno.makeTempDir({ prefix });
    const saving = persist
      ? ["--appendonly", "yes", "--appendfsync", "always"]
      : ["--appendonly", "no"];
    const child = new Deno.Command("sh", {
      args: [
        "-c",
        WATCHDOG,
        "sh",
        dir,
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        ...saving,
        "--daemonize",
        "no",
        "--dir",
        dir,
        "--logfile",
        `${dir}/redis.log`,
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      env: { REMOVE: persist ? "0" : "1" },
    }).spawn();
    const stdout = firstLine(child.stdout);
    const stderr = readAll(child.stderr);
    const running: Running = {
      child,
      dir,
      pid: 0,
      stdin: child.stdin.getWriter(),
      stderr,
      stdout: stdout.done,
      exited: child.status.then(() => {}),
      done: false,
    };
    running.exited.then(() => running.done = true);
    current = running;
    const pid = Number(await stdout.line);
    running.pid = pid;
    const giveUp = Date.now() + START_DEADLINE_MS;
    let up = false;
    while (!running.done && !(up = await ping(port))) {
      if (Date.now() > giveUp) break;
      // Polling a port that is not up yet: nothing to wait on but time.
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    if (up) return;
    const exited = running.done;
    const log = logTail(dir);
    await end(running);
    const why = exited
      ? "exited before answering PING"
      : `did not answer PING within ${START_DEADLINE_MS} ms`;
    throw new Error(
      `redis-server on 127.0.0.1:${port} ${why}; stderr: ${
        (await stderr).trim() || "(empty)"
      }; log: ${log}`,
    );
  }

  // Ends one server process: SIGTERM, then SIGKILL after the grace period,
  // then closes the watchdog's stdin and reaps both.
  async function end(running: Running): Promise<void> {
    if (!running.done && running.pid > 0) {
      try {
        Deno.kill(running.pid, "SIGTERM");
      } catch { /* already gone */ }
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        running.exited,
        new Promise((resolve) => timer = setTimeout(resolve, STOP_GRACE_MS)),
      ]).finally(() => clearTimeout(timer));
    }
    // Closing stdin makes the watchdog SIGKILL a server that is still up.
    await running.stdin.close().catch(() => {});
    await running.exited;
    await Promise.all([running.stderr, running.stdout]);
    if (!persist) {
      await Deno.remove(running.dir, { recursive: true }).catch(() => {});
    }
  }

  await spawn();

  let stopped = false;
  const server: RedisServer = {
    url: `redis://127.0.0.1:${port}`,
    port,
    get running() {
      return current !== undefined && !current.done;
    },
    get exited() {
      return current?.exited ?? Promise.resolve();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (current) await end(current);
      current = undefined;
      if (kept !== undefined) {
        await Deno.remove(kept, { recursive: true }).catch(() => {});
        kept = undefined;
      }
    },
    kill(signal) {
      if (current && !current.done) Deno.kill(current.pid, signal);
    },
    async restart() {
      if (current) await end(current);
      stopped = false;
      await spawn();
    },
    [Symbol.asyncDispose]() {
      return server.stop();
    },
  };
  return server;
}
