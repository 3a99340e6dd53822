// A node's default read-ahead, prefetch "auto" (SPEC "Speed by default"):
// long tasks spread over the nodes, long ones are not stuck behind a flood
// of tiny ones, and cancel, signal and timeout keep their meaning.
import assert from "node:assert/strict";
import { reportProgress, TimeoutError } from "../../../mod.ts";
import { deadline } from "../../_deadline.ts";
import { requireRedis } from "./_redis_server.ts";
import { cluster, firstProgress, markers, WAIT_MS } from "./_cluster.ts";
import type { RedisExecutor } from "../../../executor/redis/mod.ts";

const ignore = !requireRedis();

// A task that sleeps `ms` (0: about a millisecond, a quick function).
const nap = (ms: number) => {
  reportProgress("begun");
  return new Promise<number>((resolve) => setTimeout(() => resolve(ms), ms));
};

// Teaches every node that `nap` is quick: enough short naps that each node
// ran some.
async function learn(executor: RedisExecutor): Promise<void> {
  const futures = Array.from({ length: 200 }, () => executor.submit(nap, 0));
  await deadline(
    Promise.all(futures.map((f) => f.result())),
    WAIT_MS,
    "the short naps",
  );
}

Deno.test({
  name:
    "prefetch auto: 4 tasks of 500 ms on 2 nodes of 1 worker are all done within 1.2 s (an idle node takes only what it can start)",
  ignore,
  async fn() {
    await using c = await cluster([{ maxWorkers: 1 }, { maxWorkers: 1 }]);
    // Both nodes know nap as quick: the worst case for a read-ahead.
    await learn(c.executor);
    const started = performance.now();
    const futures = [1, 2, 3, 4].map(() => c.executor.submit(nap, 500));
    await deadline(
      Promise.all(futures.map((f) => f.result())),
      WAIT_MS,
      "the long naps",
    );
    const took = performance.now() - started;
    assert.ok(took <= 1_200, `the 4 long tasks took ${Math.round(took)} ms`);
  },
});

Deno.test({
  name:
    "prefetch auto: 8 tasks of 300 ms submitted with 2,000 tiny ones over 2 nodes of 2 workers finish within 1.5 s",
  ignore,
  async fn() {
    await using c = await cluster([{ maxWorkers: 2 }, { maxWorkers: 2 }]);
    const tiny = (n: number) => n + 1;
    const long = (ms: number) =>
      new Promise<number>((resolve) => setTimeout(() => resolve(ms), ms));
    // The nodes have seen tiny tasks stream before.
    await Promise.all(
      Array.from(
        { length: 500 },
        (_, n) => c.executor.submit(tiny, n).result(),
      ),
    );
    const finished: number[] = [];
    const started = performance.now();
    const all: Promise<unknown>[] = [];
    for (let n = 0; n < 2_000; n++) {
      all.push(c.executor.submit(tiny, n).result());
      // One long task every 250 tiny ones.
      if (n % 250 === 125) {
        all.push(
          c.executor.submit(long, 300).result().then(() => {
            finished.push(performance.now() - started);
          }),
        );
      }
    }
    await deadline(Promise.all(all), WAIT_MS, "the mix");
    assert.equal(finished.length, 8);
    const last = Math.max(...finished);
    assert.ok(
      last <= 1_500,
      `the long tasks finished at ${finished.map(Math.round).join(", ")} ms`,
    );
  },
});

Deno.test({
  name:
    "prefetch auto: a node busy with a slow task takes nothing ahead, so cancel() of the next task returns true and it never runs",
  ignore,
  async fn() {
    await using runs = await markers();
    await using c = await cluster([{ maxWorkers: 1, permissions: "inherit" }]);
    const mark = (dir: string, name: string, ms: number) => {
      reportProgress("begun");
      Deno.writeTextFileSync(`${dir}/${name}`, "");
      return new Promise((resolve) => setTimeout(resolve, ms));
    };
    // mark is quick on this node...
    await Promise.all(
      Array.from(
        { length: 50 },
        (_, n) => c.executor.submit(mark, runs.dir, `warm-${n}`, 0).result(),
      ),
    );
    // ...and a task of a function the node has not seen holds the worker.
    const hold = (ms: number) => {
      reportProgress("begun");
      return new Promise((resolve) => setTimeout(resolve, ms));
    };
    const slow = c.executor.submit(hold, 1_000);
    await firstProgress(slow, "the slow task's start");
    const next = c.executor.submit(mark, runs.dir, "next", 0);
    const after = c.executor.submit(mark, runs.dir, "after", 0);
    // Time for a read-ahead to take them and say so (a node that wrongly
    // took them fails the asserts below; one that rightly did not passes
    // whatever this wait).
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(next.running(), false);
    assert.equal(next.cancel(), true);
    await deadline(after.result(), WAIT_MS, "the task after it");
    await deadline(slow.result(), WAIT_MS, "the slow task");
    assert.ok(runs.runs().includes("after"));
    assert.ok(!runs.runs().includes("next"), "the cancelled task ran");
  },
});

Deno.test({
  name:
    "prefetch auto: a signal stops a task of a quick function that runs long, even taken ahead in a batch: its worker is free at once",
  ignore,
  async fn() {
    await using c = await cluster([{ maxWorkers: 1 }]);
    await learn(c.executor);
    // Tiny naps ahead of and behind the long one, all taken ahead.
    const controller = new AbortController();
    const before = Array.from({ length: 20 }, () => c.executor.submit(nap, 0));
    const long = c.executor.run(nap, [30_000], { signal: controller.signal });
    const behind = Array.from({ length: 20 }, () => c.executor.submit(nap, 0));
    await firstProgress(long, "the long nap's start");
    const stopped = performance.now();
    controller.abort(new Error("enough"));
    await assert.rejects(long.result(), /enough/);
    // The one worker was replaced: what waited behind it runs now.
    await deadline(
      Promise.all([...before, ...behind].map((f) => f.result())),
      5_000,
      "the naps behind the stopped task",
    );
    const next = await deadline(
      c.executor.submit(nap, 0).result(),
      5_000,
      "a task after the stop",
    );
    assert.equal(next, 0);
    assert.ok(performance.now() - stopped < 5_000);
  },
});

Deno.test({
  name:
    "prefetch auto: a timeout stops a task of a quick function that runs long, on its node",
  ignore,
  async fn() {
    // A process worker: a spinning thread cannot be stopped (Deno 2.9).
    await using c = await cluster([{ maxWorkers: 1, executor: "process" }]);
    await learn(c.executor);
    const spin = (ms: number) => {
      const end = Date.now() + ms;
      while (Date.now() < end);
      return ms;
    };
    // spin is quick too, until the call that spins for ever.
    await Promise.all(
      Array.from({ length: 50 }, () => c.executor.submit(spin, 0).result()),
    );
    const started = performance.now();
    const runaway = c.executor.run(spin, [60_000], { timeout: 300 });
    await assert.rejects(
      deadline(runaway.result(), WAIT_MS, "the runaway"),
      TimeoutError,
    );
    // Its worker was killed and replaced: the next task runs at once.
    assert.equal(
      await deadline(
        c.executor.submit(spin, 0).result(),
        5_000,
        "a task after",
      ),
      0,
    );
    assert.ok(performance.now() - started < 5_000);
  },
});
