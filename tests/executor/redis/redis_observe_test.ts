// Observability across Redis: reportProgress on a node reaches the
// submitter's future, and RedisExecutor.stats() counts its tasks and the
// live nodes' workers.
import assert from "node:assert/strict";
import { reportProgress } from "../../../mod.ts";
import { deadline } from "../../_deadline.ts";
import { requireRedis } from "./_redis_server.ts";
import { cluster, firstProgress, until, WAIT_MS } from "./_cluster.ts";

const ignore = !requireRedis();

Deno.test({
  name:
    "RedisExecutor: reportProgress on a node reaches addProgressCallback in order, all before the outcome",
  ignore,
  async fn() {
    await using c = await cluster([{ maxWorkers: 1 }]);
    const future = c.executor.submit(async () => {
      for (let i = 1; i <= 4; i++) {
        reportProgress(i);
        // Far enough apart that none is coalesced.
        await new Promise((r) => setTimeout(r, 250));
      }
      return "done";
    });
    // Progress values, with the future's state then, and the outcome, in
    // the order the future saw them.
    const events: string[] = [];
    future.addProgressCallback((value, f) =>
      events.push(`progress ${value} ${f.state}`)
    );
    future.addDoneCallback(() => events.push("done"));
    assert.equal(await deadline(future.result(), WAIT_MS, "task"), "done");
    assert.deepEqual(events, [
      "progress 1 running",
      "progress 2 running",
      "progress 3 running",
      "progress 4 running",
      "done",
    ]);
  },
});

Deno.test({
  name:
    "RedisExecutor: a task reporting in a tight loop sends a few values, the last one included",
  ignore,
  async fn() {
    await using c = await cluster([{ maxWorkers: 1 }]);
    const future = c.executor.submit((n: number) => {
      for (let i = 1; i <= n; i++) reportProgress(i);
      return n;
    }, 1_000_000);
    const seen: number[] = [];
    future.addProgressCallback((value) => seen.push(value as number));
    assert.equal(await deadline(future.result(), WAIT_MS, "task"), 1_000_000);
    assert.equal(seen.at(-1), 1_000_000, "the last always arrives");
    assert.ok(seen.length < 50, `${seen.length} values for 1,000,000 reports`);
    assert.deepEqual(seen, [...seen].sort((a, b) => a - b), "in order");
  },
});

Deno.test({
  name:
    "RedisExecutor.stats() counts its tasks, their times and the live nodes' workers",
  ignore,
  async fn() {
    const began = performance.now();
    await using c = await cluster([{ maxWorkers: 2 }]);
    const empty = c.executor.stats();
    assert.equal(empty.completed + empty.failed + empty.cancelled, 0);
    assert.equal(empty.runTime.count, 0);
    await until(() => c.executor.stats().workers === 2, "2 workers seen");
    const seen = performance.now();
    const values = await deadline(
      Promise.all(
        [1, 2, 3].map((n) => c.executor.submit((x: number) => x, n).result()),
      ),
      WAIT_MS,
      "three tasks",
    );
    assert.deepEqual(values, [1, 2, 3]);
    const failing = c.executor.submit(() => {
      throw new Error("no");
    });
    await deadline(failing.exception(), WAIT_MS, "failure");
    // Two tasks hold both workers; a third waits in the queue and is
    // cancelled there.
    const [gate, gate2] = [1, 2].map(() =>
      c.executor.submit(() => {
        reportProgress("started");
        return new Promise((r) => setTimeout(r, 800));
      })
    );
    await Promise.all([
      firstProgress(gate, "the first gate's start"),
      firstProgress(gate2, "the second gate's start"),
    ]);
    const waiting = c.executor.submit(() => "late");
    let stats = c.executor.stats();
    assert.equal(stats.running, 2);
    assert.equal(stats.busy, 2);
    assert.equal(stats.queued, 1);
    assert.ok(waiting.cancel());
    await deadline(
      Promise.all([gate.result(), gate2.result()]),
      WAIT_MS,
      "gates",
    );
    stats = c.executor.stats();
    assert.equal(stats.completed, 5);
    assert.equal(stats.failed, 1);
    assert.equal(stats.cancelled, 1);
    assert.equal(stats.queued, 0);
    assert.equal(stats.running, 0);
    assert.equal(stats.runTime.count, 6);
    assert.equal(stats.waitTime.count, 6);
    assert.ok(
      stats.runTime.max >= 700,
      `the gates ran ${stats.runTime.max} ms`,
    );
    // Utilization is busy worker-time over the 2 workers' time since they
    // were first seen: the gates alone kept both busy for 800 ms.
    const now = performance.now();
    const busy = stats.runTime.mean * stats.runTime.count;
    const low = 1_600 / (2 * (now - began));
    const high = busy / (2 * (now - seen));
    assert.ok(
      stats.utilization >= low && stats.utilization <= high,
      `utilization ${stats.utilization}, expected ${low} to ${high}`,
    );
    // A node that leaves stops counting.
    await c.nodes[0].stop();
    await until(() => c.executor.stats().workers === 0, "no workers left");
  },
});
