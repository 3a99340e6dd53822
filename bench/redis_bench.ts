// RedisExecutor against its floor, in one run: the raw node-redis loop
// (baseline), BullMQ, and a ThreadPoolExecutor on this machine (no Redis).
//
//   deno task bench bench/redis_bench.ts
//
// Each iteration starts its own redis-server and node processes
// (executor/redis/node_main.ts, a thread executor with permissions "none"),
// warms up with 200 round trips and times only the work (see
// bench/_redis.ts):
// - latency: 1,000 sequential round trips of one tiny task, one node; the
//   raw loop also with the hop a node makes to a worker (the consumer
//   computes each task in a Worker of its own);
// - throughput: 5,000 tiny tasks at once, over 1 and over 2 nodes, with
//   the default read-ahead ("auto"), with the nodes reading only for free
//   workers (prefetch 0), and with a fixed read-ahead of PREFETCH tasks.
// - large value: 200 tasks at once sharing one 10 MB argument, over 2
//   nodes: the time, and the bytes written to Redis.
// Medians are printed at the end, in µs per trip and tasks/s.
import { ThreadPoolExecutor } from "../mod.ts";
import { RedisExecutor } from "../executor/redis/mod.ts";
import { startNode } from "../tests/executor/redis/_nodes.ts";
import {
  bench,
  bullmq,
  burst,
  type Contender,
  LATENCY,
  perSecond,
  perTrip,
  raw,
  rawWorkerHop,
  type Runner,
  shared,
  TASKS,
  throughput,
  trips,
} from "./_redis.ts";

// Workers per node: as many as the machine has cores, as a node would run.
const WORKERS = 2;
// The read-ahead measured next to the default: tasks a node takes beyond
// its free workers. Enough to cover a round trip's worth of tiny tasks.
const PREFETCH = 64;

const inc = (n: number) => n + 1;

// The executor side of a runner: trips and bursts of `inc`.
function runnerOf(
  executor: { submit: RedisExecutor["submit"] },
  close: () => Promise<void>,
): Runner {
  return {
    async trip(n) {
      const value = await executor.submit(inc, n).result();
      if (value !== n + 1) throw new Error(`task ${n} got ${value}`);
    },
    async burst() {
      const futures = Array.from(
        { length: TASKS },
        (_, n) => executor.submit(inc, n),
      );
      for (let n = 0; n < TASKS; n++) {
        if (await futures[n].result() !== n + 1) {
          throw new Error(`task ${n} got a wrong answer`);
        }
      }
    },
    async share(value, tasks) {
      const futures = Array.from(
        { length: tasks },
        (_, i) => executor.submit(shared, value, i),
      );
      for (let i = 0; i < tasks; i++) {
        if (await futures[i].result() !== shared(value, i)) {
          throw new Error(`shared task ${i} got a wrong answer`);
        }
      }
    },
    close,
  };
}

function redisExecutor(
  prefetch: number | "auto",
  { name, args = [] }: { name?: string; args?: string[] } = {},
): Contender {
  return {
    name: name ??
      `RedisExecutor (${WORKERS} thread workers a node, prefetch ${
        prefetch === "auto" ? "auto, the default" : prefetch
      })`,
    async start(redis, consumers) {
      const nodes = await Promise.all(
        Array.from(
          { length: consumers },
          () =>
            startNode(redis.url, "tasks", {
              executor: "thread",
              maxWorkers: WORKERS,
              permissions: "none",
              prefetch,
              args,
            }),
        ),
      );
      const executor = new RedisExecutor({ url: redis.url, queue: "tasks" });
      return runnerOf(executor, async () => {
        await executor.shutdown();
        await Promise.all(nodes.map((node) => node.stop()));
      });
    },
  };
}

// The same tasks on this machine's workers: what Redis costs.
const threadPool: Contender = {
  name: "ThreadPoolExecutor (no Redis, a worker per consumer)",
  start(_redis, consumers) {
    const pool = new ThreadPoolExecutor({ maxWorkers: consumers });
    return Promise.resolve(runnerOf(pool, () => pool.shutdown()));
  },
};

bench(LATENCY, raw, 1, trips, perTrip, true);
bench(LATENCY, rawWorkerHop, 1, trips, perTrip);
bench(LATENCY, bullmq, 1, trips, perTrip);
bench(LATENCY, redisExecutor("auto"), 1, trips, perTrip);
bench(LATENCY, redisExecutor(0), 1, trips, perTrip);
bench(LATENCY, threadPool, 1, trips, perTrip);
for (const consumers of [1, 2]) {
  const group = throughput(consumers);
  bench(group, raw, consumers, burst, perSecond, true);
  bench(group, bullmq, consumers, burst, perSecond);
  bench(group, redisExecutor("auto"), consumers, burst, perSecond);
  bench(group, redisExecutor(0), consumers, burst, perSecond);
  bench(group, redisExecutor(PREFETCH), consumers, burst, perSecond);
  bench(group, threadPool, consumers, burst, perSecond);
}

// Large values: SHARED_TASKS tasks at once over 2 nodes, all given the same
// 10 MB Uint8Array; the time and the bytes written to Redis. The
// RedisExecutor stores it once (inlineLimit); the raw loop SETs it once by
// hand and its consumers GET it once; BullMQ carries it in every job's JSON
// data (as base64).
const SHARED_TASKS = 200;
const SHARED = new Uint8Array(10 * 1024 * 1024).map((_, i) => i % 251);
const LARGE =
  `large value (${SHARED_TASKS} tasks sharing one 10 MB argument, 2 consumers)`;
const share = (runner: Runner) => runner.share(SHARED, SHARED_TASKS);
const perShare = (ms: number) => `${Math.round(ms).toLocaleString("en")} ms`;
// BullMQ takes most of a minute a run: 5 runs, and room for them.
const large = { written: true, runs: 5, stuck: 180_000 };
bench(LARGE, raw, 2, share, perShare, true, large);
bench(LARGE, bullmq, 2, share, perShare, false, large);
bench(LARGE, redisExecutor("auto"), 2, share, perShare, false, large);
bench(LARGE, redisExecutor(0), 2, share, perShare, false, large);
bench(LARGE, redisExecutor(PREFETCH), 2, share, perShare, false, large);

// ---------------------------------------------------------------------------
// Task events (the Redis dashboard's history): what they cost the hot path.
//
//   deno task bench --filter "task events" bench/redis_bench.ts
//
// The same burst of TASKS tiny tasks over 2 nodes, the nodes writing their
// task events to <queue>:events with their replies (--history 10000, the
// default) or writing none (--history 0); at prefetch "auto" (the default)
// and PREFETCH, where tasks stream fastest and the events' share is largest.
// Results: bench/results/redis_events.txt.
const EVENT_HISTORY = 10_000;

const eventsContender = (history: number, prefetch: number | "auto") =>
  redisExecutor(prefetch, {
    name: `task events ${
      history === 0 ? "off" : "on"
    } (--history ${history}, prefetch ${prefetch})`,
    args: ["--history", String(history)],
  });

for (const prefetch of ["auto", PREFETCH] as const) {
  const group = `task events, ${throughput(2)}, prefetch ${prefetch}`;
  bench(group, eventsContender(0, prefetch), 2, burst, perSecond, true);
  bench(group, eventsContender(EVENT_HISTORY, prefetch), 2, burst, perSecond);
}
