// Throughput: 100,000 tiny tasks (x => x + 1) submitted at once on 2
// workers. Baseline: a minimal dispatcher over 2 raw Workers, one
// postMessage per task, pipelined.
import { ThreadPoolExecutor } from "../mod.ts";
import { type Contender, peers, pool, raw, tryStart } from "./_contenders.ts";

const TASKS = 100_000;
const GROUP = "throughput (100,000 tiny tasks, 2 workers)";

function throughput(contender: Contender, baseline = false) {
  Deno.bench({
    name: contender.name + (contender === pool ? " submit" : ""),
    group: GROUP,
    baseline,
    n: 5,
    warmup: 1,
    async fn(b) {
      const runner = await tryStart(contender, 2);
      b.start();
      const results = [];
      for (let i = 0; i < TASKS; i++) results.push(runner.run("inc", i));
      await Promise.all(results);
      b.end();
      await runner.close();
    },
  });
}

throughput(raw, true);
throughput(pool);
Deno.bench({
  name: "ThreadPoolExecutor map chunksize 1000",
  group: GROUP,
  n: 5,
  warmup: 1,
  async fn(b) {
    await using executor = new ThreadPoolExecutor({ maxWorkers: 2 });
    await executor.submit(() => 0).result();
    const inputs = Array.from({ length: TASKS }, (_, i) => i);
    b.start();
    let sum = 0;
    for await (
      const n of executor.map((x: number) => x + 1, inputs, { chunksize: 1000 })
    ) sum += n;
    b.end();
    if (sum === 0) throw new Error("no results");
  },
});
for (const peer of peers) throughput(peer);
