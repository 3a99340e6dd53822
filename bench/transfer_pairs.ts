// 16 MB moved both ways (`transfer`) against its floors, interleaved (as
// latency_pairs.ts: `deno bench` runs one contender's iterations after
// another's, so a drift of this noisy machine reads as a difference). Each
// round moves one 16 MB ArrayBuffer to a worker and back 200 times, one
// contender after the other: the thread pool (`run` with `transfer`, the
// task returning it marked for transfer), a raw Worker echoing it with
// `postMessage(…, [buffer])` (payload_bench.ts's floor), and a raw echo
// over a private MessagePort (the channel the pool uses); the medians of
// the rounds are compared:
//
//   deno run -A bench/transfer_pairs.ts [rounds]
import { ThreadPoolExecutor } from "../mod.ts";

const ROUNDS = Number(Deno.args[0] ?? 21);
const TRIPS = 200;
const SIZE = 16 * 1024 * 1024;

const pool = new ThreadPoolExecutor({ maxWorkers: 1 });
const back = (b: ArrayBuffer): ArrayBuffer =>
  ({ "@concurrent/futures:transfer": [b], value: b }) as unknown as ArrayBuffer;
const poolTrip = (buffer: ArrayBuffer) =>
  pool.run(back, [buffer], { transfer: [buffer] }).result();

const worker = new Worker(
  new URL("./fixtures/raw_worker.js", import.meta.url),
  { type: "module" },
);
let answered: (buffer: ArrayBuffer) => void = () => {};
worker.onmessage = (event) => answered(event.data[1]);
const workerTrip = (buffer: ArrayBuffer) =>
  new Promise<ArrayBuffer>((resolve) => {
    answered = resolve;
    worker.postMessage([0, "move", buffer], [buffer]);
  });

const echo = `self.onmessage = (e) => {
  const port = e.data;
  port.onmessage = (m) => port.postMessage(m.data, [m.data[1]]);
};`;
const portWorker = new Worker(
  `data:application/javascript,${encodeURIComponent(echo)}`,
  { type: "module" },
);
const { port1, port2 } = new MessageChannel();
portWorker.postMessage(port2, [port2]);
let portAnswered: (buffer: ArrayBuffer) => void = () => {};
port1.onmessage = (event) => portAnswered(event.data[1]);
const portTrip = (buffer: ArrayBuffer) =>
  new Promise<ArrayBuffer>((resolve) => {
    portAnswered = resolve;
    port1.postMessage([0, buffer], [buffer]);
  });

const contenders: [string, (b: ArrayBuffer) => Promise<ArrayBuffer>][] = [
  ["ThreadPoolExecutor", poolTrip],
  ["raw Worker", workerTrip],
  ["raw private MessagePort", portTrip],
];
const buffers = contenders.map(() => new ArrayBuffer(SIZE));
const times = contenders.map(() => [] as number[]);
for (let round = -1; round < ROUNDS; round++) {
  for (const [index, [, trip]] of contenders.entries()) {
    let buffer = buffers[index];
    const start = performance.now();
    for (let i = 0; i < TRIPS; i++) buffer = await trip(buffer);
    // Round -1 warms every contender up.
    if (round >= 0) times[index].push((performance.now() - start) / TRIPS);
    if (buffer.byteLength !== SIZE) throw new Error("the buffer was lost");
    buffers[index] = buffer;
  }
}
const median = (list: number[]) =>
  list.toSorted((a, b) => a - b)[list.length >> 1];
const [ours, ...floors] = times.map(median);
console.log(
  `ThreadPoolExecutor: ${(ours * 1000).toFixed(1)} µs a 16 MB round trip`,
);
floors.forEach((floor, i) => {
  console.log(
    `${contenders[i + 1][0]}: ${(floor * 1000).toFixed(1)} µs (pool ${
      (ours / floor).toFixed(2)
    }×)`,
  );
});
const ratios = times[0].map((t, i) => t / times[1][i]);
console.log(
  `pool/raw Worker per round: median ${median(ratios).toFixed(2)}×, min ${
    Math.min(...ratios).toFixed(2)
  }×, max ${Math.max(...ratios).toFixed(2)}×`,
);
await pool.shutdown();
worker.terminate();
port1.close();
portWorker.terminate();
