// Cold start: a new pool to its first result, against a new raw Worker to
// its first reply.
import { type Contender, peers, pool, raw } from "./_contenders.ts";

function coldStart(contender: Contender, baseline = false) {
  Deno.bench({
    name: contender.name,
    group: "cold start (new pool to first result)",
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

coldStart(raw, true);
coldStart(pool);
for (const peer of peers) coldStart(peer);
