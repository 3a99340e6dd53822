// The live dashboard of a pool (serveDashboard): the progress example's
// work, primes counted in ranges that report how far they have come, plus
// a check that fails now and then, so every panel has something to show.
// Open the printed URL while it runs.
//
//   deno run -A examples/dashboard.ts            three rounds (a few seconds), then exits
//   deno run -A examples/dashboard.ts --stay     rounds until Ctrl-C (or DASHBOARD_STAY=1)
//   deno run -A examples/dashboard.ts --port 9000
import { serveDashboard, ThreadPoolExecutor } from "@concurrent/futures";
import { checkCount, countPrimesReporting } from "./_primes.ts";

const args = Deno.args;
const stay = args.includes("--stay") || Deno.env.get("DASHBOARD_STAY") === "1";
const portAt = args.indexOf("--port");
const port = portAt >= 0 ? Number(args[portAt + 1]) : 8787;

const STEP = 500_000;
const RANGES = 16;

await using pool = new ThreadPoolExecutor({ maxWorkers: 4 });
await using board = (() => {
  try {
    return serveDashboard(pool, { port });
  } catch (error) {
    if (!(error instanceof Deno.errors.AddrInUse)) throw error;
    return serveDashboard(pool); // the port is taken: any free one
  }
})();
console.log(`dashboard: ${board.url}`);

// One round: the ranges, each checked once counted.
async function round(offset: number): Promise<number> {
  const counted = Array.from({ length: RANGES }, (_, i) => {
    const from = offset + i * STEP;
    return pool.submit(countPrimesReporting, from, from + STEP).result()
      .then((count) =>
        pool.submit(checkCount, from, from + STEP, count, 0.0025).result()
      );
  });
  const outcomes = await Promise.allSettled(counted);
  return outcomes.filter((o) => o.status === "rejected").length;
}

const stop = new AbortController();
if (stay) {
  const onSignal = () => stop.abort();
  Deno.addSignalListener("SIGINT", onSignal);
  console.log("serving until Ctrl-C");
  for (let offset = 0; !stop.signal.aborted; offset += RANGES * STEP) {
    await round(offset);
  }
  Deno.removeSignalListener("SIGINT", onSignal);
} else {
  let failed = 0;
  for (let i = 0; i < 3; i++) failed += await round(i * RANGES * STEP);
  const { completed } = pool.stats();
  console.log(
    `${completed} tasks completed, ${failed} checks failed (as they should: see Failures); --stay keeps the dashboard up`,
  );
}
