// Task graphs: the cost of an edge (a task taking another's future) against
// the same graph written by hand (await the result, then submit), in the
// same run, on a thread pool of 2 workers:
// - a chain of 10,000 tasks, each taking the one before's future;
// - a fan-in of 1,000 tasks into one that takes all their futures;
// and on a RedisExecutor with 2 node processes (2 thread workers each, on a
// private redis-server): a chain of 1,000 and the same fan-in.
//
//   deno task bench bench/graph_bench.ts
//
// The hand-written graph is the floor (baseline): both pay the same round
// trip per edge (on Redis the submitter passes each value on, see
// ARCHITECTURE.md); the graph saves the caller's own hop.
//
// Dask's figures for the same graphs: python3 bench/dask_graph.py
import { type Executor, type Future, ThreadPoolExecutor } from "../mod.ts";
import { RedisExecutor } from "../executor/redis/mod.ts";
import {
  type RedisServer,
  startRedis,
} from "../tests/executor/redis/_redis_server.ts";
import { type NodeProcess, startNode } from "../tests/executor/redis/_nodes.ts";

const CHAIN = 10_000;
const REDIS_CHAIN = 1_000;
const FAN_IN = 1_000;

// deno bench reports no median: each bench's spans are kept and the
// medians printed at exit, with each graph's ratio to its hand-written one.
const spans = new Map<string, number[]>();
globalThis.addEventListener("unload", () => {
  const medians = new Map<string, number>();
  for (const [name, all] of spans) {
    const sorted = all.slice(1).toSorted((a, b) => a - b); // 1st: warmup
    const mid = sorted.length >> 1;
    medians.set(
      name,
      sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2,
    );
  }
  for (const [name, ms] of medians) {
    const hand = medians.get(name.replace(/as a graph$/, "by hand"));
    const ratio = name.endsWith("as a graph") && hand !== undefined
      ? ` (${(ms / hand).toFixed(2)}× by hand)`
      : "";
    console.log(`median ${name}: ${ms.toFixed(1)} ms${ratio}`);
  }
});

function timed(
  group: string,
  name: string,
  n: number,
  work: () => Promise<void>,
): void {
  const record: number[] = [];
  spans.set(`${group}, ${name}`, record);
  Deno.bench({
    name,
    group,
    baseline: name === "by hand",
    n,
    warmup: 1,
    async fn(b) {
      b.start();
      const started = performance.now();
      await work();
      record.push(performance.now() - started);
      b.end();
    },
  });
}

const inc = (x: number) => x + 1;
const sum = (...xs: number[]) => xs.reduce((a, b) => a + b, 0);

let pool: ThreadPoolExecutor | undefined;
async function warm(): Promise<ThreadPoolExecutor> {
  if (pool === undefined) {
    pool = new ThreadPoolExecutor({ maxWorkers: 2 });
    for (let i = 0; i < 200; i++) await pool.submit(inc, i).result();
  }
  return pool;
}

async function chainByHand(p: Executor, length: number): Promise<void> {
  let value = 0;
  for (let i = 0; i < length; i++) value = await p.submit(inc, value).result();
  if (value !== length) throw new Error(`chain got ${value}`);
}

async function chainAsGraph(p: Executor, length: number): Promise<void> {
  let last: Future<number> = p.submit(() => 0);
  for (let i = 0; i < length; i++) last = p.submit(inc, last);
  const value = await last.result();
  if (value !== length) throw new Error(`chain got ${value}`);
}

async function fanInByHand(p: Executor): Promise<void> {
  const parts = Array.from({ length: FAN_IN }, (_, i) => p.submit(inc, i));
  const values = await Promise.all(parts.map((f) => f.result()));
  const total = await p.submit(sum, ...values).result();
  if (total !== FAN_IN * (FAN_IN + 1) / 2) throw new Error(`got ${total}`);
}

async function fanInAsGraph(p: Executor): Promise<void> {
  const parts = Array.from({ length: FAN_IN }, (_, i) => p.submit(inc, i));
  const total = await p.submit(sum, ...parts).result();
  if (total !== FAN_IN * (FAN_IN + 1) / 2) throw new Error(`got ${total}`);
}

const CHAIN_GROUP = "chain of 10,000 tasks, thread pool";
timed(CHAIN_GROUP, "by hand", 5, async () => chainByHand(await warm(), CHAIN));
timed(
  CHAIN_GROUP,
  "as a graph",
  5,
  async () => chainAsGraph(await warm(), CHAIN),
);
const FAN_IN_GROUP = "fan-in of 1,000 into 1, thread pool";
timed(FAN_IN_GROUP, "by hand", 20, async () => fanInByHand(await warm()));
timed(FAN_IN_GROUP, "as a graph", 20, async () => fanInAsGraph(await warm()));

// One redis-server and two nodes for every Redis iteration.
let cluster:
  | { redis: RedisServer; nodes: NodeProcess[]; executor: RedisExecutor }
  | undefined;
async function warmRedis(): Promise<RedisExecutor> {
  if (cluster === undefined) {
    const redis = await startRedis();
    const nodes = await Promise.all(
      [0, 1].map(() =>
        startNode(redis.url, "graph", {
          executor: "thread",
          maxWorkers: 2,
          permissions: "none",
        })
      ),
    );
    const executor = new RedisExecutor({ url: redis.url, queue: "graph" });
    for (let i = 0; i < 200; i++) await executor.submit(inc, i).result();
    cluster = { redis, nodes, executor };
  }
  return cluster.executor;
}

const REDIS = "on Redis, 2 nodes";
for (
  const [group, byHand, asGraph, n] of [
    [
      `chain of ${REDIS_CHAIN.toLocaleString("en")} tasks, ${REDIS}`,
      (p: Executor) => chainByHand(p, REDIS_CHAIN),
      (p: Executor) => chainAsGraph(p, REDIS_CHAIN),
      9,
    ],
    [`fan-in of 1,000 into 1, ${REDIS}`, fanInByHand, fanInAsGraph, 15],
  ] as const
) {
  timed(group, "by hand", n, async () => byHand(await warmRedis()));
  timed(group, "as a graph", n, async () => asGraph(await warmRedis()));
}

Deno.bench({
  name: "(teardown)",
  group: "(teardown)",
  n: 1,
  warmup: 0,
  async fn() {
    await pool?.shutdown();
    pool = undefined;
    if (cluster !== undefined) {
      await cluster.executor.shutdown();
      await Promise.all(cluster.nodes.map((node) => node.stop()));
      await cluster.redis[Symbol.asyncDispose]();
      cluster = undefined;
    }
  },
});
