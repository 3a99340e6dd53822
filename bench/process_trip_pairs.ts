// A process pool's round trip against its floors, interleaved (as
// latency_pairs.ts: `deno bench` runs one contender's iterations after
// another's, so a drift of this noisy machine reads as a difference). Each
// round times 1,000 sequential round trips of, one after the other: the
// thread pool, the process pool, a raw `deno` child that echoes 8 bytes
// read with `Deno.stdin.read` and read back with a BYOB reader (the same
// two pipe hops, no framing, no codec), and a raw Worker (the thread pool's floor); the medians of the
// rounds are compared:
//
//   deno run -A bench/process_trip_pairs.ts [rounds]
import { ProcessPoolExecutor, ThreadPoolExecutor } from "../mod.ts";

const ROUNDS = Number(Deno.args[0] ?? 21);
const TRIPS = 1_000;

const inc = (x: number) => x + 1;
const ECHO = `data:application/javascript,${
  encodeURIComponent(
    "const b = new Uint8Array(65536); for (;;) { const n = await Deno.stdin.read(b); if (n === null) break; Deno.stdout.writeSync(b.subarray(0, n)); }",
  )
}`;

const threads = new ThreadPoolExecutor({ maxWorkers: 1 });
const processes = new ProcessPoolExecutor({ maxWorkers: 1 });
const echo = new Deno.Command(Deno.execPath(), {
  args: ["run", "--no-config", "--quiet", ECHO],
  stdin: "piped",
  stdout: "piped",
}).spawn();
const writer = echo.stdin.getWriter();
// A BYOB reader into one buffer, as the process pool reads: the default
// reader allocates a new 64 KB buffer a read.
const reader = echo.stdout.getReader({ mode: "byob" });
let buffer = new ArrayBuffer(64 * 1024);
const message = new Uint8Array(8);
const echoTrip = async () => {
  await writer.write(message);
  let got = 0;
  while (got < message.length) {
    const { value, done } = await reader.read(new Uint8Array(buffer));
    if (done) throw new Error("the echo child ended");
    buffer = value.buffer as ArrayBuffer;
    got += value.length;
  }
};

const worker = new Worker(
  `data:application/javascript,${
    encodeURIComponent("onmessage = (e) => postMessage(e.data + 1);")
  }`,
  { type: "module" },
);
const workerTrip = (i: number) =>
  new Promise((resolve) => {
    worker.onmessage = (event) => resolve(event.data);
    worker.postMessage(i);
  });

const contenders: [string, (i: number) => Promise<unknown>][] = [
  ["ThreadPoolExecutor", (i) => threads.submit(inc, i).result()],
  ["ProcessPoolExecutor", (i) => processes.submit(inc, i).result()],
  ["raw deno child echo", echoTrip],
  ["raw Worker", workerTrip],
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
const [thread, process, raw, rawWorker] = times.map(median);
const us = (ms: number) => `${(ms * 1000).toFixed(1)} µs`;
console.log(`ThreadPoolExecutor: ${us(thread)} a round trip`);
console.log(
  `ProcessPoolExecutor: ${us(process)} (${
    (process / thread).toFixed(2)
  }× the thread pool, ${(process / raw).toFixed(2)}× the raw child)`,
);
console.log(
  `raw deno child echo: ${us(raw)} (${
    (raw / thread).toFixed(2)
  }× the thread pool)`,
);
console.log(
  `raw Worker: ${us(rawWorker)} (the thread pool ${
    (thread / rawWorker).toFixed(2)
  }× it)`,
);
// Per round, the ratio to the thread pool in the same round.
const ratios = times[1].map((t, i) => t / times[0][i]);
console.log(
  `process/thread per round: median ${median(ratios).toFixed(2)}×, min ${
    Math.min(...ratios).toFixed(2)
  }×, max ${Math.max(...ratios).toFixed(2)}×`,
);
worker.terminate();
await threads.shutdown();
await processes.shutdown();
await writer.close();
reader.releaseLock();
await echo.stdout.cancel();
await echo.status;
