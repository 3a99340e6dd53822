// Latency against its floors, interleaved: `deno bench` runs one contender's
// iterations after another's, so on a noisy machine a drift between them
// reads as a difference. Here each round times 2,000 sequential round trips
// of the pool, of a raw Worker (the latency bench's floor) and of a raw echo
// over a private MessagePort (the channel the pool uses, so that a task's own
// postMessage cannot reach it), one after the other; the medians of 21
// rounds are compared. Pin it to one CPU to see the cost of every step:
//
//   taskset -c 0 deno run -A bench/latency_pairs.ts
import { ThreadPoolExecutor } from "../mod.ts";
import { raw } from "./_contenders.ts";

const ROUNDS = 21;
const TRIPS = 2_000;

const inc = (x: number) => x + 1;
const pool = new ThreadPoolExecutor({ maxWorkers: 1 });
const rawWorker = await raw.start(1);

const echo = `self.onmessage = (e) => {
  const port = e.data;
  port.onmessage = (m) => port.postMessage([m.data[0], m.data[2] + 1]);
};`;
const worker = new Worker(
  `data:application/javascript,${encodeURIComponent(echo)}`,
  { type: "module" },
);
const { port1, port2 } = new MessageChannel();
worker.postMessage(port2, [port2]);
let answered: (value: unknown) => void = () => {};
port1.onmessage = (event) => answered(event.data);
const portTrip = (i: number) =>
  new Promise((resolve) => {
    answered = resolve;
    port1.postMessage([i, "inc", i]);
  });

const contenders: [string, (i: number) => Promise<unknown>][] = [
  ["ThreadPoolExecutor", (i) => pool.submit(inc, i).result()],
  ["raw Worker", (i) => rawWorker.run("inc", i)],
  ["raw private MessagePort", portTrip],
];
const times = contenders.map(() => [] as number[]);
for (let round = -1; round < ROUNDS; round++) {
  for (const [index, [, trip]] of contenders.entries()) {
    const start = performance.now();
    for (let i = 0; i < TRIPS; i++) await trip(i);
    // Round -1 warms every contender up.
    if (round >= 0) times[index].push((performance.now() - start) / TRIPS);
  }
}
const median = (list: number[]) =>
  list.toSorted((a, b) => a - b)[list.length >> 1];
const [ours, ...floors] = times.map(median);
console.log(`ThreadPoolExecutor: ${(ours * 1000).toFixed(1)} µs a round trip`);
floors.forEach((floor, i) => {
  console.log(
    `${contenders[i + 1][0]}: ${(floor * 1000).toFixed(1)} µs (pool ${
      (ours / floor).toFixed(2)
    }×)`,
  );
});
await pool.shutdown();
await rawWorker.close();
port1.close();
worker.terminate();
