// map with chunks: 100,000 tiny calls (x => x + 1) on 2 workers, against a
// raw floor that sends 256 calls a message to 2 raw Workers and sums the
// replies.
import { ThreadPoolExecutor } from "../mod.ts";

const CALLS = 100_000;
const GROUP = "map (100,000 tiny calls in chunks, 2 workers)";
const inputs = Array.from({ length: CALLS }, (_, i) => i);
const rawSource = `self.onmessage = (event) => {
  const [id, xs] = event.data;
  const out = new Array(xs.length);
  for (let i = 0; i < xs.length; i++) out[i] = xs[i] + 1;
  postMessage([id, out]);
};`;
const rawUrl = URL.createObjectURL(
  new Blob([rawSource], { type: "text/javascript" }),
);

Deno.bench({
  name: "raw Worker, 256 calls a message",
  group: GROUP,
  baseline: true,
  n: 20,
  warmup: 3,
  async fn(b) {
    const workers = [0, 1].map(() => new Worker(rawUrl, { type: "module" }));
    let pending = 0;
    let sum = 0;
    const done = Promise.withResolvers<void>();
    for (const worker of workers) {
      worker.onmessage = (event) => {
        for (const value of event.data[1]) sum += value;
        if (--pending === 0) done.resolve();
      };
    }
    b.start();
    for (let i = 0, id = 0; i < CALLS; i += 256, id++) {
      pending++;
      workers[id % 2].postMessage([id, inputs.slice(i, i + 256)]);
    }
    await done.promise;
    b.end();
    for (const worker of workers) worker.terminate();
    if (sum === 0) throw new Error("no results");
  },
});

for (const chunksize of [256, 1000]) {
  Deno.bench({
    name: `ThreadPoolExecutor map chunksize ${chunksize}`,
    group: GROUP,
    n: 20,
    warmup: 3,
    async fn(b) {
      await using pool = new ThreadPoolExecutor({ maxWorkers: 2 });
      await Promise.all([1, 2].map(() => pool.submit(() => 0).result()));
      b.start();
      let sum = 0;
      for await (
        const n of pool.map((x: number) => x + 1, inputs, { chunksize })
      ) sum += n;
      b.end();
      if (sum === 0) throw new Error("no results");
    },
  });
}
