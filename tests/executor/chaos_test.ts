// Chaos: many tasks, some crashing their worker in assorted ways. Every
// future settles right, no worker is left, nothing hangs.
import assert from "node:assert/strict";
import { BrokenExecutorError, ThreadPoolExecutor } from "../../mod.ts";
import { deadline } from "../_deadline.ts";
import { countWorkers } from "./_worker_count.ts";

// mulberry32: a small seeded PRNG, so a failure replays.
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function task(n: number, crash: number): Promise<number> | number {
  switch (crash) {
    case 1:
      setTimeout(() => {
        throw new Error("timer");
      });
      return new Promise(() => {});
    case 2:
      Promise.reject(new Error("rejection"));
      return new Promise(() => {});
    case 3:
      close();
      return new Promise(() => {});
    case 4:
      return Deno.exit(1);
    default:
      return n % 3 === 0
        ? new Promise((r) => setTimeout(() => r(n * 2), 1))
        : n * 2;
  }
}

Deno.test("ThreadPoolExecutor settles 300 tasks right while every 7th crashes its worker", async () => {
  using workers = countWorkers();
  const pool = new ThreadPoolExecutor({ maxWorkers: 2 });
  const next = random(20261124);
  const plan = Array.from(
    { length: 300 },
    (_, i) => (i % 7 === 6 ? 1 + Math.floor(next() * 4) : 0),
  );
  const futures = plan.map((crash, i) => pool.submit(task, i, crash));
  const outcomes = await deadline(
    Promise.allSettled(futures.map((f) => f.result())),
    30_000,
    "300 chaotic tasks",
  );
  outcomes.forEach((outcome, i) => {
    if (plan[i] === 0) {
      assert.deepEqual(
        outcome,
        { status: "fulfilled", value: i * 2 },
        `task ${i}`,
      );
    } else {
      assert.equal(outcome.status, "rejected", `task ${i}`);
      assert.ok(
        (outcome as PromiseRejectedResult).reason instanceof
          BrokenExecutorError,
        `task ${i}`,
      );
    }
  });
  await deadline(pool.shutdown(), 5000, "shutdown");
  assert.equal(workers.terminated, workers.started, "no worker left alive");
  assert.ok(workers.started > plan.filter((c) => c > 0).length);
});
