// CPU: 8 x fib(30) on 2 workers, against the same run on the main thread
// (the speedup is the ratio). CPU code runs ~1.25x slower in a Deno Worker,
// so compare a pool's speedup with the raw Workers', not with 2.0.
import { type Contender, peers, pool, raw, tryStart } from "./_contenders.ts";

const N = 30;
const GROUP = "cpu (8 x fib(30), 2 workers)";

function fib(n: number): number {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

Deno.bench({
  name: "sequential, main thread",
  group: GROUP,
  baseline: true,
  n: 10,
  warmup: 2,
  fn() {
    for (let i = 0; i < 8; i++) fib(N);
  },
});

function cpu(contender: Contender) {
  Deno.bench({
    name: contender.name,
    group: GROUP,
    n: 10,
    warmup: 2,
    async fn(b) {
      const runner = await tryStart(contender, 2);
      await Promise.all([runner.run("fib", 25), runner.run("fib", 25)]);
      b.start();
      await Promise.all(Array.from({ length: 8 }, () => runner.run("fib", N)));
      b.end();
      await runner.close();
    },
  });
}

cpu(raw);
cpu(pool);
for (const peer of peers) cpu(peer);
