// Across processes (and, with a shared Redis, across machines): a local
// redis-server, two RedisNode programs, and a RedisExecutor that spreads the
// prime counting of _primes.ts over them with map(). Prints which node
// counted how much, and the total.
import { fromModule } from "@concurrent/futures";
import { RedisExecutor } from "@concurrent/futures/redis";
import { startLocalRedis } from "./_redis.ts";

await using redis = await startLocalRedis();
if (redis === undefined) {
  // As the Redis tests: under CI a missing server is a failure, not a skip.
  const ci = Deno.env.get("CI") === "true";
  console.log(
    `examples/cluster.ts: ${
      ci ? "FAILED under CI=true" : "skipped"
    }, redis-server is not installed (apt-get install redis-server)`,
  );
  Deno.exit(ci ? 1 : 0);
}

// The tasks are a module's exports: each node must be told it may import
// them (allowModules). Its thread workers inherit the node's permissions,
// which they need to read the module; a node for code you do not trust
// runs --executor process --permissions none.
const tasks = fromModule<typeof import("./_primes.ts")>(
  new URL("./_primes.ts", import.meta.url),
);
const examples = new URL(".", import.meta.url).href;
const nodeProgram =
  new URL(import.meta.resolve("@concurrent/futures/redis/node"))
    .pathname;

interface Node {
  pid: number;
  stop(): Promise<void>;
}

async function startNode(): Promise<Node> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      nodeProgram,
      ...["--url", redis!.url, "--queue", "primes"],
      ...["--executor", "thread", "--max-workers", "1"],
      ...["--permissions", "inherit", "--allow-module", examples],
    ],
    stdout: "piped",
  }).spawn();
  // It prints one line once it is ready.
  const lines = child.stdout.pipeThrough(new TextDecoderStream());
  const reader = lines.getReader();
  let seen = "";
  while (!seen.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("a node exited before it was ready");
    seen += value;
  }
  reader.releaseLock();
  const drained = lines.pipeTo(new WritableStream());
  return {
    pid: child.pid,
    async stop() {
      child.kill("SIGTERM"); // it finishes what it runs, then leaves
      await child.status;
      await drained;
    },
  };
}

const nodes = await Promise.all([startNode(), startNode()]);
try {
  await using cluster = new RedisExecutor({ url: redis.url, queue: "primes" });
  const LIMIT = 2_000_000;
  const STEP = 50_000;
  const starts = Array.from({ length: LIMIT / STEP }, (_, i) => i * STEP);
  const ends = starts.map((start) => start + STEP);
  const started = performance.now();
  const byPid = new Map<number, { ranges: number; primes: number }>();
  let total = 0;
  for await (
    const { count, pid } of cluster.map(tasks.countPrimesWhere, starts, ends)
  ) {
    const share = byPid.get(pid) ?? { ranges: 0, primes: 0 };
    share.ranges++;
    share.primes += count;
    byPid.set(pid, share);
    total += count;
  }
  const ms = performance.now() - started;
  nodes.forEach((node, i) => {
    const share = byPid.get(node.pid) ?? { ranges: 0, primes: 0 };
    console.log(
      `node ${
        i + 1
      } (pid ${node.pid}): ${share.ranges} ranges, ${share.primes} primes`,
    );
  });
  console.log(`total: ${total} primes below ${LIMIT} in ${ms.toFixed(0)} ms`);
} finally {
  await Promise.all(nodes.map((node) => node.stop()));
}
