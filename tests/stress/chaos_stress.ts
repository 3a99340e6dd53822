// Chaos at scale (`deno task stress`, not in the default run): 10,000 tasks
// on 2 workers, every 7th ending its worker in a random way, in both
// executors. Every future settles with its own outcome; nothing hangs; no
// worker is left.
import assert from "node:assert/strict";
import {
  BrokenExecutorError,
  type Executor,
  ProcessPoolExecutor,
  ThreadPoolExecutor,
} from "../../mod.ts";
import { deadline } from "../_deadline.ts";
import { countWorkers } from "../executor/_worker_count.ts";

const TASKS = 10_000;

// mulberry32: a small seeded PRNG, so a failure replays.
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// One function for every task, so quick ones travel and return in batches
// and a crash lands between batched results. `crash` picks the way.
function task(n: number, crash: number): unknown {
  const die = () => {
    switch (crash) {
      case 1:
        return Deno.exit(1);
      case 2:
        return close();
      case 3:
        return (globalThis as unknown as { process: { exit(c: number): void } })
          .process.exit(2);
    }
  };
  switch (crash) {
    case 0:
      return n % 5 === 0
        ? new Promise((r) => setTimeout(() => r(n * 2), 1))
        : n * 2;
    case 1:
    case 2:
    case 3:
      die();
      return new Promise(() => {});
    case 4:
      setTimeout(() => {
        throw new Error("timer");
      });
      return new Promise(() => {});
    case 5:
      Promise.reject(new Error("rejection"));
      return new Promise(() => {});
    case 6:
      // While its result is cloned.
      return {
        get x() {
          return Deno.exit(1);
        },
      };
    default:
      // While its error is cloned.
      throw {
        get message() {
          return Deno.exit(1);
        },
      };
  }
}

// A silent death (an outside kill) cannot name its task, so it goes alone
// to a worker: a function of its own, never sent ahead.
const killed = () => Deno.kill(Deno.pid, "SIGKILL");

async function chaos(
  pool: Executor,
  kinds: number,
  sigkill: boolean,
): Promise<void> {
  const next = random(20261201);
  const plan = Array.from(
    { length: TASKS },
    (_, i) =>
      i % 7 === 6 ? 1 + Math.floor(next() * (kinds + (sigkill ? 1 : 0))) : 0,
  );
  const futures = plan.map((crash, i) =>
    crash > kinds ? pool.submit(killed) : pool.submit(task, i, crash)
  );
  const outcomes = await deadline(
    Promise.allSettled(futures.map((f) => f.result())),
    600_000,
    `${TASKS} chaotic tasks`,
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
      const reason = (outcome as PromiseRejectedResult).reason;
      assert.ok(
        reason instanceof BrokenExecutorError &&
          // Two deaths in one worker: the second task's result was being
          // sent when the first ended it.
          /died (under the task|before the task's result was sent)/.test(
            reason.message,
          ),
        `task ${i}: ${reason}`,
      );
    }
  });
  await deadline(pool.shutdown(), 30_000, "shutdown");
}

Deno.test(`ThreadPoolExecutor settles ${TASKS} tasks right while every 7th ends its worker`, async () => {
  using workers = countWorkers();
  await chaos(new ThreadPoolExecutor({ maxWorkers: 2 }), 7, false);
  assert.equal(workers.started, workers.terminated, "no worker left alive");
});

Deno.test(`ProcessPoolExecutor settles ${TASKS} tasks right while every 7th ends its worker`, async () => {
  // shutdown() resolves only once every child has exited.
  await chaos(new ProcessPoolExecutor({ maxWorkers: 2 }), 7, true);
});
