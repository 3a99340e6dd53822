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
  n: 10,
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
  n: 10,
  async fn() {
    const pool = new ProcessPoolExecutor({ maxWorkers: 1 });
    await pool.submit(inc, 1).result();
    await pool.shutdown();
  },
});
Deno.bench({
  name: "ThreadPoolExecutor (new pool to first result)",
  group: "process cold start",
  n: 10,
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
roundTrips(
  "ThreadPoolExecutor",
  () => new ThreadPoolExecutor({ maxWorkers: 1 }),
  true,
);
roundTrips(
  "ProcessPoolExecutor",
  () => new ProcessPoolExecutor({ maxWorkers: 1 }),
);
