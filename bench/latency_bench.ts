// Latency: sequential round trips of a tiny task, 1,000 per iteration, on
// one worker. Baseline: a raw Worker with postMessage.
import { type Contender, peers, pool, raw, tryStart } from "./_contenders.ts";

const TRIPS = 1000;

function latency(
  contender: Contender,
  baseline = false,
  name = contender.name,
) {
  Deno.bench({
    name,
    group: "latency (1,000 sequential round trips)",
    baseline,
    n: 20,
    warmup: 3,
    async fn(b) {
      const runner = await tryStart(contender, 1);
      for (let i = 0; i < 200; i++) await runner.run("inc", i);
      b.start();
      for (let i = 0; i < TRIPS; i++) await runner.run("inc", i);
      b.end();
      await runner.close();
    },
  });
}

latency(raw, true);
latency(raw, false, "raw Worker (A/A)");
latency(pool);
for (const peer of peers) latency(peer);
