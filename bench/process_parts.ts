// Where a process pool's round trip goes, interleaved (as latency_pairs.ts):
// each round times 1,000 sequential round trips of, one after the other,
//
//   - a raw `deno` child echoing 8 bytes (read with `Deno.stdin.read`, read
//     back with a BYOB reader): the two pipe hops alone;
//   - the pool's transport alone: the worker program in a child, sent RUN
//     messages and read back through the channel's framing and codec, with
//     no Pool (no future, queue or dispatch);
//   - ProcessPoolExecutor: all of it;
//   - ThreadPoolExecutor: the same Pool over a thread.
//
// The difference between the first two is the channel's JavaScript on both
// sides (codec, framing, the worker's task loop and outbox); between the
// second and the third, the Pool's (which the thread pool pays too).
//
//   deno run -A bench/process_parts.ts [rounds]
//   taskset -c 0 deno run -A bench/process_parts.ts [rounds]
import { ProcessPoolExecutor, ThreadPoolExecutor } from "../mod.ts";
import { processSpawner } from "../executor/_process/spawn.ts";
import type { FromWorker, ToWorker } from "../executor/_wire/protocol.ts";
import { PROTOCOL as P } from "../executor/_wire/protocol.ts";

const ROUNDS = Number(Deno.args[0] ?? 15);
const TRIPS = 1_000;
const inc = (x: number) => x + 1;

const ECHO = `data:application/javascript,${
  encodeURIComponent(
    "const b = new Uint8Array(65536); for (;;) { const n = await Deno.stdin.read(b); if (n === null) break; Deno.stdout.writeSync(b.subarray(0, n)); }",
  )
}`;
const echo = new Deno.Command(Deno.execPath(), {
  args: ["run", "--no-config", "--quiet", ECHO],
  stdin: "piped",
  stdout: "piped",
}).spawn();
const writer = echo.stdin.getWriter();
const reader = echo.stdout.getReader({ mode: "byob" });
let buffer = new ArrayBuffer(64 * 1024);
const bytes = new Uint8Array(8);
const echoTrip = async () => {
  await writer.write(bytes);
  let got = 0;
  while (got < bytes.length) {
    const { value, done } = await reader.read(new Uint8Array(buffer));
    if (done) throw new Error("the echo child ended");
    buffer = value.buffer as ArrayBuffer;
    got += value.length;
  }
};

const spawn = processSpawner({ flags: [], scoped: false });
let answered: (message: FromWorker) => void = () => {};
const handle = spawn({ name: "transport" }, {
  message: (message) => answered(message),
  died: (reason) => console.error(`the transport's child died: ${reason}`),
});
const spec = { id: 1, source: String(inc) };
let sentSpec = false;
const transportTrip = (i: number) =>
  new Promise((resolve) => {
    answered = (message) => {
      if (message[0] === P.RESULTS) resolve(message);
    };
    handle.send([P.RUN, i, sentSpec ? spec.id : spec, [i], 0] as ToWorker, []);
    sentSpec = true;
  });

const processes = new ProcessPoolExecutor({ maxWorkers: 1 });
const threads = new ThreadPoolExecutor({ maxWorkers: 1 });

const contenders: [string, (i: number) => Promise<unknown>][] = [
  ["raw deno child echo", echoTrip],
  ["transport alone (child program, codec, framing)", transportTrip],
  ["ProcessPoolExecutor", (i) => processes.submit(inc, i).result()],
  ["ThreadPoolExecutor", (i) => threads.submit(inc, i).result()],
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
const medians = times.map(median);
contenders.forEach(([name], i) => {
  const step = i > 0 && i < 3
    ? ` (+${((medians[i] - medians[i - 1]) * 1000).toFixed(1)} µs)`
    : "";
  console.log(`${name}: ${(medians[i] * 1000).toFixed(1)} µs${step}`);
});
await processes.shutdown();
await threads.shutdown();
await handle.terminate();
await spawn.close();
await writer.close();
reader.releaseLock();
await echo.stdout.cancel();
await echo.status;
