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
// The hand-written graph is the floor: both pay the same round trip per
// edge (on Redis too the value comes back to the submitter, which sends the
// dependent task: SPEC's "no Redis entry while waiting"); the graph saves
// only the caller's own code.
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

// The two versions of a graph run in turns, in one bench per graph (the
// order swapped each time), so that the machine's drift over a run falls on
// both alike; deno bench times the pair. Each version's spans are kept and
// their medians printed at exit, with the graph's ratio to the hand-written.
const spans = new Map<string, { hand: number[]; graph: number[] }>();
globalThis.addEventListener("unload", () => {
  const median = (all: number[]) => {
    const sorted = all.slice(1).toSorted((a, b) => a - b); // 1st: warmup
    const mid = sorted.length >> 1;
    return sorted.length % 2
      ? sorted[mid]
      : (sorted[mid - 1] + sorted[mid]) / 2;
  };
  for (const [group, { hand, graph }] of spans) {
    const [byHand, asGraph] = [median(hand), median(graph)];
    console.log(`median ${group}, by hand: ${byHand.toFixed(1)} ms`);
    console.log(
      `median ${group}, as a graph: ${asGraph.toFixed(1)} ms (${
        (asGraph / byHand).toFixed(2)
      }× by hand, ${hand.length - 1} runs each)`,
    );
  }
});

function paired(
  group: string,
  n: number,
  byHand: () => Promise<void>,
  asGraph: () => Promise<void>,
): void {
  const record = { hand: [] as number[], graph: [] as number[] };
  spans.set(group, record);
  let turn = 0;
  const time = async (work: () => Promise<void>, into: number[]) => {
    const started = performance.now();
    await work();
    into.push(performance.now() - started);
  };
  Deno.bench({
    name: "by hand and as a graph, in turns",
    group,
    n,
    warmup: 1,
    async fn() {
      if (turn++ % 2 === 0) {
        await time(byHand, record.hand);
        await time(asGraph, record.graph);
      } else {
        await time(asGraph, record.graph);
        await time(byHand, record.hand);
      }
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

paired(
  "chain of 10,000 tasks, thread pool",
  9,
  async () => chainByHand(await warm(), CHAIN),
  async () => chainAsGraph(await warm(), CHAIN),
);
paired(
  "fan-in of 1,000 into 1, thread pool",
  31,
  async () => fanInByHand(await warm()),
  async () => fanInAsGraph(await warm()),
);

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
      11,
    ],
    [`fan-in of 1,000 into 1, ${REDIS}`, fanInByHand, fanInAsGraph, 21],
  ] as const
) {
  paired(
    group,
    n,
    async () => byHand(await warmRedis()),
    async () => asGraph(await warmRedis()),
  );
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
