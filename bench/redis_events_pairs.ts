// What the task events (the Redis dashboard's history) cost the hot path,
// interleaved: `deno bench` runs one contender's iterations after the
// other's, so a drift of this noisy machine reads as a difference. Each
// round runs, one after the other in an order that alternates, a burst of
// 5,000 tiny tasks over 2 nodes (2 thread workers each, the default
// prefetch) writing their events (--history 10000, the default) and the same
// with none (--history 0); each on a redis-server and nodes of its own,
// warmed up with 200 round trips. The medians of the rounds and of the
// per-round ratios are compared:
//
//   deno run -A --config bench/deno.json bench/redis_events_pairs.ts [rounds]
import { RedisExecutor } from "../executor/redis/mod.ts";
import { startRedis } from "../tests/executor/redis/_redis_server.ts";
import { startNode } from "../tests/executor/redis/_nodes.ts";

const ROUNDS = Number(Deno.args[0] ?? 15);
const TASKS = 5_000;
const inc = (n: number) => n + 1;

// Tasks a second of one burst, the nodes started with `--history history`.
async function burst(history: number): Promise<number> {
  await using redis = await startRedis();
  const nodes = await Promise.all(
    [0, 1].map(() =>
      startNode(redis.url, "tasks", {
        executor: "thread",
        maxWorkers: 2,
        permissions: "none",
        args: ["--history", String(history)],
      })
    ),
  );
  const executor = new RedisExecutor({ url: redis.url, queue: "tasks" });
  try {
    for (let i = 0; i < 200; i++) await executor.submit(inc, i).result();
    const started = performance.now();
    const futures = Array.from(
      { length: TASKS },
      (_, n) => executor.submit(inc, n),
    );
    for (let n = 0; n < TASKS; n++) {
      if (await futures[n].result() !== n + 1) throw new Error("wrong answer");
    }
    return TASKS / ((performance.now() - started) / 1000);
  } finally {
    await executor.shutdown();
    await Promise.all(nodes.map((node) => node.stop()));
  }
}

const median = (values: number[]) => {
  const sorted = values.toSorted((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

const on: number[] = [], off: number[] = [], ratios: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const first = round % 2 === 0 ? 10_000 : 0;
  const a = await burst(first);
  const b = await burst(10_000 - first);
  const [withEvents, without] = first === 0 ? [b, a] : [a, b];
  on.push(withEvents);
  off.push(without);
  ratios.push(withEvents / without);
  console.log(
    `round ${round + 1}: events on ${Math.round(withEvents)}, off ${
      Math.round(without)
    } tasks/s, on/off ${(withEvents / without).toFixed(3)}`,
  );
}
const fmt = (n: number) => Math.round(n).toLocaleString("en");
console.log(
  `median of ${ROUNDS} rounds: events on ${fmt(median(on))} tasks/s, off ${
    fmt(median(off))
  } tasks/s; median per-round on/off ${median(ratios).toFixed(3)}`,
);
