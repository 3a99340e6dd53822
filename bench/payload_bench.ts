// Payload: a 16 MB ArrayBuffer to a worker and back, copied and moved.
import { ThreadPoolExecutor } from "../mod.ts";

const SIZE = 16 * 1024 * 1024;
const worker = new Worker(
  new URL("./fixtures/raw_worker.js", import.meta.url),
  {
    type: "module",
  },
);
const pool = new ThreadPoolExecutor({ maxWorkers: 1 });
await pool.submit(() => 0).result();

function rawTrip(
  kind: "echo" | "move",
  buffer: ArrayBuffer,
): Promise<ArrayBuffer> {
  const { promise, resolve } = Promise.withResolvers<ArrayBuffer>();
  worker.onmessage = (event) => resolve(event.data[1]);
  worker.postMessage([0, kind, buffer], kind === "move" ? [buffer] : []);
  return promise;
}

Deno.bench({
  name: "raw Worker copy",
  group: "payload copied (16 MB round trip)",
  baseline: true,
  n: 20,
  async fn() {
    await rawTrip("echo", new ArrayBuffer(SIZE));
  },
});
Deno.bench({
  name: "ThreadPoolExecutor copy",
  group: "payload copied (16 MB round trip)",
  n: 20,
  async fn() {
    await pool.submit((b: ArrayBuffer) => b, new ArrayBuffer(SIZE)).result();
  },
});
Deno.bench({
  name: "raw Worker transfer",
  group: "payload transferred (16 MB round trip)",
  baseline: true,
  n: 50,
  async fn() {
    await rawTrip("move", new ArrayBuffer(SIZE));
  },
});
Deno.bench({
  name: "ThreadPoolExecutor transfer",
  group: "payload transferred (16 MB round trip)",
  n: 50,
  async fn() {
    const buffer = new ArrayBuffer(SIZE);
    await pool.run(
      (b: ArrayBuffer): ArrayBuffer =>
        ({
          "@concurrent/futures:transfer": [b],
          value: b,
        }) as unknown as ArrayBuffer,
      [buffer],
      { transfer: [buffer] },
    ).result();
  },
});
// The last bench ends the workers, so `deno bench` can exit.
Deno.bench({
  name: "(teardown)",
  group: "teardown",
  n: 1,
  warmup: 0,
  async fn() {
    worker.terminate();
    await pool.shutdown();
  },
});
