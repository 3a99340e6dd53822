// Process pool: round trip and cold start, next to the thread pool's and a
// raw `deno` child (the floor for a process).
import { ProcessPoolExecutor, ThreadPoolExecutor } from "../mod.ts";

const inc = (x: number) => x + 1;
const CHILD = `data:application/javascript,${
  encodeURIComponent("console.log(1)")
}`;

Deno.bench({
  name: "raw Deno.Command child (start to output)",
  group: "process cold start",
  baseline: true,
  n: 30,
  async fn() {
    await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-config", "--quiet", CHILD],
      stdout: "piped",
    }).output();
  },
});
Deno.bench({
  name: "ProcessPoolExecutor (new pool to first result)",
  group: "process cold start",
  n: 30,
  async fn() {
    const pool = new ProcessPoolExecutor({ maxWorkers: 1 });
    await pool.submit(inc, 1).result();
    await pool.shutdown();
  },
});
Deno.bench({
  name: "ThreadPoolExecutor (new pool to first result)",
  group: "process cold start",
  n: 30,
  async fn() {
    const pool = new ThreadPoolExecutor({ maxWorkers: 1 });
    await pool.submit(inc, 1).result();
    await pool.shutdown();
  },
});

function roundTrips(
  name: string,
  make: () => ThreadPoolExecutor | ProcessPoolExecutor,
  baseline = false,
) {
  Deno.bench({
    name,
    group: "round trip (1,000 sequential)",
    baseline,
    n: 10,
    async fn(b) {
      const pool = make();
      for (let i = 0; i < 100; i++) await pool.submit(inc, i).result();
      b.start();
      for (let i = 0; i < 1000; i++) await pool.submit(inc, i).result();
      b.end();
      await pool.shutdown();
    },
  });
}
// The floors of a round trip: a raw Worker's postMessage, and a raw deno
// child that echoes its stdin to stdout (one small write each way, no
// framing, no serialization), read with the stream or with Deno.stdin.read.
const ECHO_STREAM = `data:application/javascript,${
  encodeURIComponent(
    "for await (const c of Deno.stdin.readable) Deno.stdout.writeSync(c);",
  )
}`;
const ECHO_READ = `data:application/javascript,${
  encodeURIComponent(
    "const b = new Uint8Array(65536); for (;;) { const n = await Deno.stdin.read(b); if (n === null) break; Deno.stdout.writeSync(b.subarray(0, n)); }",
  )
}`;

function rawChild(name: string, child: string) {
  Deno.bench({
    name,
    group: "round trip (1,000 sequential)",
    n: 10,
    async fn(b) {
      const process = new Deno.Command(Deno.execPath(), {
        args: ["run", "--no-config", "--quiet", child],
        stdin: "piped",
        stdout: "piped",
      }).spawn();
      const writer = process.stdin.getWriter();
      const reader = process.stdout.getReader();
      const message = new Uint8Array(8);
      const trip = async () => {
        await writer.write(message);
        let got = 0;
        while (got < message.length) {
          const { value, done } = await reader.read();
          if (done) throw new Error("the echo child ended");
          got += value.length;
        }
      };
      for (let i = 0; i < 100; i++) await trip();
      b.start();
      for (let i = 0; i < 1000; i++) await trip();
      b.end();
      await writer.close();
      reader.releaseLock();
      await process.stdout.cancel();
      await process.status;
    },
  });
}

Deno.bench({
  name: "raw Worker (postMessage)",
  group: "round trip (1,000 sequential)",
  n: 10,
  async fn(b) {
    const worker = new Worker(
      `data:application/javascript,${
        encodeURIComponent("onmessage = (e) => postMessage(e.data + 1);")
      }`,
      { type: "module" },
    );
    const trip = (i: number) =>
      new Promise((resolve) => {
        worker.onmessage = (event) => resolve(event.data);
        worker.postMessage(i);
      });
    for (let i = 0; i < 100; i++) await trip(i);
    b.start();
    for (let i = 0; i < 1000; i++) await trip(i);
    b.end();
    worker.terminate();
  },
});
rawChild("raw deno child echo (stdin stream)", ECHO_STREAM);
rawChild("raw deno child echo (Deno.stdin.read)", ECHO_READ);
roundTrips(
  "ThreadPoolExecutor",
  () => new ThreadPoolExecutor({ maxWorkers: 1 }),
  true,
);
roundTrips(
  "ProcessPoolExecutor",
  () => new ProcessPoolExecutor({ maxWorkers: 1 }),
);

// A 16 MB buffer there and back, copied: through the process channel's
// frames (read in 64 KB chunks) next to the thread pool's structured clone.
function payload(
  name: string,
  make: () => ThreadPoolExecutor | ProcessPoolExecutor,
  baseline = false,
) {
  Deno.bench({
    name,
    group: "payload copied (16 MB round trip), process",
    baseline,
    n: 10,
    async fn(b) {
      const pool = make();
      const echo = (bytes: Uint8Array) => bytes;
      const bytes = new Uint8Array(16 * 1024 * 1024);
      await pool.submit(echo, bytes).result();
      b.start();
      const back = await pool.submit(echo, bytes).result();
      b.end();
      if (back.length !== bytes.length) throw new Error("short payload");
      await pool.shutdown();
    },
  });
}
payload(
  "ThreadPoolExecutor",
  () => new ThreadPoolExecutor({ maxWorkers: 1 }),
  true,
);
payload(
  "ProcessPoolExecutor",
  () => new ProcessPoolExecutor({ maxWorkers: 1 }),
);
