// Real node processes for the RedisExecutor tests: `deno run node_main.ts`
// under a watchdog that SIGKILLs the node if the test program dies (its
// stdin closes), so no node outlives its test.
//
//   test ──spawn──> sh (watchdog) ──&──> deno run node_main.ts --url …
//     │ stdin pipe     │ on EOF: kill -9 the node
//     └── reads the node's pid (sh's first line), then its ready line
import { deadline } from "../../_deadline.ts";

const NODE_MAIN =
  new URL("../../../executor/redis/node_main.ts", import.meta.url)
    .pathname;
const CONFIG = new URL("../../../deno.json", import.meta.url).pathname;
/** How long a node may take to print its ready line. */
const READY_MS = 30_000;
/** How long a node may take to exit after SIGTERM. */
const EXIT_MS = 30_000;

const WATCHDOG = `
exec 3<&0
"$@" </dev/null 3<&- &
child=$!
echo "$child"
{ while read -r _ <&3; do :; done; kill -9 "$child" 2>/dev/null; } &
reader=$!
wait "$child"
code=$?
kill "$reader" 2>/dev/null
exit "$code"
`;

/** How a node process runs. */
export interface NodeSetup {
  executor?: "thread" | "process";
  maxWorkers?: number;
  permissions?: "none" | "inherit";
  allowModules?: string[];
  prefetch?: number | "auto";
  connectTimeout?: number;
  /** More flags for the node program (`--grace 500`, `--allow-read=…`). */
  args?: string[];
}

/** A node process; dispose it to stop it (SIGTERM, then wait). */
export interface NodeProcess extends AsyncDisposable {
  /** The node's id, from its ready line. */
  readonly id: string;
  /** The node process's pid (a thread task's `Deno.pid`). */
  readonly pid: number;
  /** What it wrote on stderr so far. */
  readonly stderr: () => string;
  /** Resolves with its first stdout line after the ready line that starts with `prefix`. */
  line(prefix: string): Promise<string>;
  /** Resolves with its exit code. */
  readonly exited: Promise<number>;
  /** Sends `signal` to the node process itself. */
  kill(signal: Deno.Signal): void;
  /** SIGTERM, then waits for the exit; returns the exit code. Idempotent. */
  stop(): Promise<number>;
}

/** Starts `node_main.ts` on `url`/`queue` and waits for its ready line. */
export async function startNode(
  url: string,
  queue: string,
  setup: NodeSetup = {},
): Promise<NodeProcess> {
  const args = [
    "run",
    "-A",
    "--config",
    CONFIG,
    NODE_MAIN,
    "--url",
    url,
    "--queue",
    queue,
    "--executor",
    setup.executor ?? "thread",
    "--max-workers",
    String(setup.maxWorkers ?? 2),
    "--permissions",
    setup.permissions ?? "none",
  ];
  for (const prefix of setup.allowModules ?? []) {
    args.push("--allow-module", prefix);
  }
  if (setup.prefetch !== undefined) {
    args.push("--prefetch", String(setup.prefetch));
  }
  if (setup.connectTimeout !== undefined) {
    args.push("--connect-timeout", String(setup.connectTimeout));
  }
  args.push(...setup.args ?? []);
  const child = new Deno.Command("sh", {
    args: ["-c", WATCHDOG, "sh", Deno.execPath(), ...args],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const stdin = child.stdin.getWriter();
  let errors = "";
  const stderr = (async () => {
    for await (
      const text of child.stderr.pipeThrough(new TextDecoderStream())
    ) {
      errors += text;
    }
  })();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const exited = child.status.then(async (status) => {
    await stdin.close().catch(() => {});
    await stderr;
    return status.code;
  });
  let seen = "";
  const readLine = async (): Promise<string> => {
    while (!seen.includes("\n")) {
      const { value, done } = await lines.read();
      if (done) throw new Error(`node exited before it was ready: ${errors}`);
      seen += value;
    }
    const [line, ...rest] = seen.split("\n");
    seen = rest.join("\n");
    return line;
  };
  let pid = 0;
  let id = "";
  try {
    pid = Number(await deadline(readLine(), READY_MS, "node pid"));
    const ready = await deadline(readLine(), READY_MS, "node ready line");
    const match = ready.match(/^RedisNode (\S+) ready/);
    if (match === null) throw new Error(`unexpected line: ${ready}`);
    id = match[1];
  } catch (error) {
    child.kill("SIGKILL");
    await lines.cancel().catch(() => {});
    await exited;
    throw error;
  }
  // Later lines, for line(); read to the end so the node never blocks.
  const later: string[] = [];
  const waiters: { prefix: string; resolve: (line: string) => void }[] = [];
  const drained = (async () => {
    for (;;) {
      const { value, done } = await lines.read();
      if (done) break;
      seen += value;
      const parts = seen.split("\n");
      seen = parts.pop()!;
      for (const line of parts) {
        later.push(line);
        for (const waiter of waiters.splice(0)) {
          if (line.startsWith(waiter.prefix)) waiter.resolve(line);
          else waiters.push(waiter);
        }
      }
    }
  })();
  let stopping: Promise<number> | undefined;
  const node: NodeProcess = {
    id,
    pid,
    stderr: () => errors,
    line(prefix) {
      const found = later.find((line) => line.startsWith(prefix));
      if (found !== undefined) return Promise.resolve(found);
      const { promise, resolve } = Promise.withResolvers<string>();
      waiters.push({ prefix, resolve });
      return deadline(promise, EXIT_MS, `the node's line ${prefix}`);
    },
    exited,
    kill(signal) {
      try {
        Deno.kill(pid, signal);
      } catch { /* already gone */ }
    },
    stop() {
      stopping ??= (async () => {
        node.kill("SIGTERM");
        const code = await deadline(exited, EXIT_MS, `node ${id} exiting`);
        await drained;
        return code;
      })();
      return stopping;
    },
    async [Symbol.asyncDispose]() {
      await node.stop();
    },
  };
  return node;
}
