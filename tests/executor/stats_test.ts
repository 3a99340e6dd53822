// stats() of both pool executors: counts, summaries, utilization (the
// histogram behind the summaries: histogram_test.ts).
import assert from "node:assert/strict";
import {
  CancelledError,
  ProcessPoolExecutor,
  reportProgress,
  ThreadPoolExecutor,
} from "../../mod.ts";
import { deadline } from "../_deadline.ts";

const executors = [
  {
    name: "ThreadPoolExecutor",
    make: (o: { maxWorkers: number }) => new ThreadPoolExecutor(o),
  },
  {
    name: "ProcessPoolExecutor",
    make: (o: { maxWorkers: number }) => new ProcessPoolExecutor(o),
  },
];

const WAIT = 15_000;

for (const { name, make } of executors) {
  Deno.test(`${name}.stats() counts queued, running, completed, failed and cancelled tasks`, async () => {
    await using pool = make({ maxWorkers: 1 });
    assert.deepEqual(
      [pool.stats().workers, pool.stats().queued, pool.stats().completed],
      [0, 0, 0],
    );
    // Busy for a while, so the others wait in the queue; it says when it
    // has started (progress comes only from a running task).
    const blocker = pool.submit(async () => {
      reportProgress("started");
      await new Promise((r) => setTimeout(r, 300));
      return "blocked";
    });
    const started = Promise.withResolvers<void>();
    blocker.addProgressCallback(() => started.resolve());
    const queued = [1, 2, 3].map((n) => pool.submit((x: number) => x, n));
    await deadline(started.promise, WAIT, "the blocker to start");
    let stats = pool.stats();
    assert.equal(stats.workers, 1);
    assert.equal(stats.busy, 1);
    assert.equal(stats.running, 1);
    assert.equal(stats.queued, 3);
    assert.ok(queued[2].cancel());
    assert.equal(pool.stats().queued, 2);
    assert.equal(pool.stats().cancelled, 1);
    const failing = pool.submit(() => {
      throw new Error("no");
    });
    await deadline(blocker.result(), WAIT, "blocker");
    await deadline(
      Promise.all(queued.slice(0, 2).map((f) => f.result())),
      WAIT,
      "queued",
    );
    await assert.rejects(queued[2].result(), CancelledError);
    await assert.rejects(deadline(failing.result(), WAIT, "failing"), /no/);
    stats = pool.stats();
    assert.equal(stats.completed, 3);
    assert.equal(stats.failed, 1);
    assert.equal(stats.cancelled, 1);
    assert.equal(stats.running, 0);
    assert.equal(stats.queued, 0);
    assert.equal(stats.busy, 0);
    assert.equal(stats.runTime.count, 4);
    assert.equal(stats.waitTime.count, 4);
  });

  Deno.test(`${name}.stats() measures run and wait times and utilization`, async () => {
    const before = performance.now();
    await using pool = make({ maxWorkers: 2 });
    const made = performance.now();
    // Start both workers, so startup is not in the measured run times.
    await deadline(
      Promise.all(
        [1, 2].map(() =>
          pool.submit(() => new Promise((r) => setTimeout(r, 20))).result()
        ),
      ),
      WAIT,
      "warm-up",
    );
    const sleep = async (ms: number) => {
      await new Promise((r) => setTimeout(r, ms));
      return ms;
    };
    const futures = [1, 2, 3, 4].map(() => pool.submit(sleep, 100));
    await deadline(Promise.all(futures.map((f) => f.result())), WAIT, "run");
    const { runTime, waitTime, utilization } = pool.stats();
    const now = performance.now();
    assert.equal(runTime.count, 6);
    assert.ok(runTime.max >= 100, `max ${runTime.max}`);
    assert.ok(runTime.p90 >= 95 && runTime.p90 < 1000, `p90 ${runTime.p90}`);
    // Two of the four waited for a worker about 100 ms.
    assert.ok(waitTime.max >= 90, `wait max ${waitTime.max}`);
    assert.ok(waitTime.p50 < 50, `wait p50 ${waitTime.p50}`);
    // Busy worker-time over 2 workers × the pool's age: at least the 440
    // ms the tasks slept, at most their run times plus their trips to and
    // from a worker (1 ms each, at most), over an age between the test's
    // two clocks.
    const low = (2 * 20 + 4 * 100) / (2 * (now - before));
    const high = (runTime.mean + 1) * runTime.count / (2 * (now - made));
    assert.ok(
      utilization >= low && utilization <= high,
      `utilization ${utilization}, expected ${low} to ${high}`,
    );
  });
}
