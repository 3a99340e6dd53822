// What the task events (the Redis dashboard's history) cost the hot path,
// interleaved: `deno bench` runs one contender's iterations after the
// other's, so a drift of this noisy machine reads as a difference. Each
// round runs, one after the other in an order that alternates, a burst of
// 5,000 tiny tasks over 2 nodes (2 thread workers each, the default
// prefetch) writing their events (--history 10000, the default) and the same
// with none (--history 0); each on a redis-server and nodes of its own,
// warmed up with 200 round trips. Throughput on this shared 2-core machine
// moves ±20 % from burst to burst, so each burst also reads the CPU time
// (/proc, user + system) the nodes and the redis-server spent on it: what
// the events cost them, whatever else ran. The medians of the rounds and of
// the per-round ratios are compared:
//
//   deno run -A --config bench/deno.json bench/redis_events_pairs.ts [rounds]
import { RedisExecutor } from "../executor/redis/mod.ts";
import { startRedis } from "../tests/executor/redis/_redis_server.ts";
import { startNode } from "../tests/executor/redis/_nodes.ts";
import { createClient } from "redis";

const ROUNDS = Number(Deno.args[0] ?? 15);
const TASKS = 5_000;
const inc = (n: number) => n + 1;

// CPU ms (user + system) process `pid` has used so far.
function cpuMs(pid: number): number {
  const fields = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1]
    .split(" ");
  // utime and stime: fields 14 and 15 of stat, in clock ticks (100 a second).
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

interface Burst {
  /** Tasks a second. */
  rate: number;
  /** CPU ms the nodes and Redis spent on it, a 1,000 tasks. */
  cpu: number;
}

// One burst, the nodes started with `--history history`.
async function burst(history: number): Promise<Burst> {
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
    const client = createClient({ url: redis.url });
    await client.connect();
    const info = String(await client.sendCommand(["INFO", "server"]));
    client.destroy();
    const pids = [
      ...nodes.map((node) => node.pid),
      Number(/process_id:(\d+)/.exec(info)![1]),
    ];
    const cpu = () => pids.reduce((sum, pid) => sum + cpuMs(pid), 0);
    const before = cpu();
    const started = performance.now();
    const futures = Array.from(
      { length: TASKS },
      (_, n) => executor.submit(inc, n),
    );
    for (let n = 0; n < TASKS; n++) {
      if (await futures[n].result() !== n + 1) throw new Error("wrong answer");
    }
    const rate = TASKS / ((performance.now() - started) / 1000);
    return { rate, cpu: (cpu() - before) / (TASKS / 1000) };
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

const on: Burst[] = [], off: Burst[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const first = round % 2 === 0 ? 10_000 : 0;
  const a = await burst(first);
  const b = await burst(10_000 - first);
  const [withEvents, without] = first === 0 ? [b, a] : [a, b];
  on.push(withEvents);
  off.push(without);
  console.log(
    `round ${round + 1}: events on ${Math.round(withEvents.rate)} tasks/s, ${
      withEvents.cpu.toFixed(1)
    } CPU ms a 1,000; off ${Math.round(without.rate)} tasks/s, ${
      without.cpu.toFixed(1)
    } CPU ms a 1,000`,
  );
}
const fmt = (n: number) => Math.round(n).toLocaleString("en");
const ratio = (pick: (b: Burst) => number) =>
  median(on.map((b, i) => pick(b) / pick(off[i]))).toFixed(3);
console.log(
  `median of ${ROUNDS} rounds: events on ${
    fmt(median(on.map((b) => b.rate)))
  } tasks/s, off ${
    fmt(median(off.map((b) => b.rate)))
  } tasks/s (per-round on/off ${
    ratio((b) => b.rate)
  }); CPU of the nodes and Redis a 1,000 tasks: on ${
    median(on.map((b) => b.cpu)).toFixed(1)
  } ms, off ${median(off.map((b) => b.cpu)).toFixed(1)} ms (per-round on/off ${
    ratio((b) => b.cpu)
  })`,
);
