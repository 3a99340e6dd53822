// The two thread transports against the raw Worker floor, in the same run:
// Web Workers (ThreadPoolExecutor's default) and node:worker_threads Workers
// (used when `memoryLimit` is set). Latency, throughput and cold start.
import {
  type Contender,
  nodePool,
  pool,
  raw,
  tryStart,
} from "./_contenders.ts";

const contenders: [Contender, boolean][] = [
  [raw, true],
  [pool, false],
  [nodePool, false],
];

for (const [contender, baseline] of contenders) {
  Deno.bench({
    name: contender.name,
    group: "transport: latency (1,000 sequential round trips)",
    baseline,
    n: 20,
    warmup: 3,
    async fn(b) {
      const runner = await tryStart(contender, 1);
      for (let i = 0; i < 200; i++) await runner.run("inc", i);
      b.start();
      for (let i = 0; i < 1000; i++) await runner.run("inc", i);
      b.end();
      await runner.close();
    },
  });
}

for (const [contender, baseline] of contenders) {
  Deno.bench({
    name: contender.name,
    group: "transport: throughput (100,000 tiny tasks, 2 workers)",
    baseline,
    n: 5,
    warmup: 1,
    async fn(b) {
      const runner = await tryStart(contender, 2);
      b.start();
      const results = [];
      for (let i = 0; i < 100_000; i++) results.push(runner.run("inc", i));
      await Promise.all(results);
      b.end();
      await runner.close();
    },
  });
}

for (const [contender, baseline] of contenders) {
  Deno.bench({
    name: contender.name,
    group: "transport: cold start (new pool to first result)",
    baseline,
    n: 10,
    warmup: 2,
    async fn(b) {
      b.start();
      const runner = await contender.start(1);
      b.end();
      await runner.close();
    },
  });
}
