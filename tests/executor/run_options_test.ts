// run(fn, args, { timeout, signal, transfer }).
import assert from "node:assert/strict";
import {
  CancelledError,
  reportProgress,
  ThreadPoolExecutor,
} from "../../mod.ts";
import { deadline } from "../_deadline.ts";
import { countWorkers } from "./_worker_count.ts";

Deno.test("ThreadPoolExecutor.run() signal cancels a pending task with CancelledError", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const blocker = pool.submit(async () => {
    await new Promise((r) => setTimeout(r, 50));
    return "blocker";
  });
  const controller = new AbortController();
  const pending = pool.run((x: number) => x, [1], {
    signal: controller.signal,
  });
  controller.abort(new Error("not needed"));
  assert.equal(pending.cancelled(), true);
  await assert.rejects(pending.result(), CancelledError);
  assert.equal(await deadline(blocker.result(), 1000, "blocker"), "blocker");
});

Deno.test("ThreadPoolExecutor.run() signal stops a running task with signal.reason and replaces its worker", async () => {
  using workers = countWorkers();
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const controller = new AbortController();
  // Says when it runs in the worker, then never ends.
  const running = pool.run(
    () => {
      reportProgress("started");
      return new Promise<never>(() => {});
    },
    [],
    { signal: controller.signal },
  );
  const queued = pool.submit(() => "queued");
  await deadline(
    new Promise<unknown>((resolve) => running.addProgressCallback(resolve)),
    1000,
    "task start",
  ).catch((error) => {
    // Stop the endless task, or disposing the pool would wait for it.
    controller.abort(error);
    throw error;
  });
  assert.equal(running.state, "running");
  const reason = new Error("stop it");
  controller.abort(reason);
  await assert.rejects(
    deadline(running.result(), 1000, "abort"),
    (e) => e === reason,
  );
  assert.equal(await deadline(queued.result(), 1000, "queued"), "queued");
  await deadline(workers.terminations(1), 1000, "the worker's termination");
  assert.equal(workers.started, 2);
});

Deno.test("ThreadPoolExecutor.run() with an aborted signal rejects at once with signal.reason", async () => {
  using workers = countWorkers();
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const future = pool.run(() => 1, [], {
    signal: AbortSignal.abort("already"),
  });
  assert.equal(future.done(), true);
  await assert.rejects(future.result(), (e) => e === "already");
  assert.equal(workers.started, 0);
});

Deno.test("ThreadPoolExecutor.run() transfer detaches the buffer when run() returns, even while queued", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const busy = pool.submit(async () => {
    await new Promise((r) => setTimeout(r, 30));
  });
  const buffer = new Uint8Array([1, 2, 3, 4]).buffer;
  const future = pool.run(
    (b: ArrayBuffer) => new Uint8Array(b).reduce((a, x) => a + x, 0),
    [buffer],
    { transfer: [buffer] },
  );
  assert.equal(buffer.byteLength, 0, "detached at once");
  // Dispatch runs in a microtask: after it, the busy task holds the only
  // worker and this one still waits in the queue, its buffer detached.
  await null;
  assert.equal(future.state, "pending");
  assert.equal(pool.stats().queued, 1);
  assert.equal(await deadline(future.result(), 1000, "transfer"), 10);
  await busy.result();
});

Deno.test("ThreadPoolExecutor.run() transfers a result marked with the transfer key", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const bytes = await pool.submit((): ArrayBuffer => {
    const buffer = new Uint8Array([7, 8]).buffer;
    const marked = { "@concurrent/futures:transfer": [buffer], value: buffer };
    return marked as unknown as ArrayBuffer;
  }).result();
  assert.deepEqual([...new Uint8Array(bytes)], [7, 8]);
});

Deno.test("ThreadPoolExecutor.run() rejects bad options naming them", () => {
  const pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  try {
    assert.throws(
      () => pool.run(() => 1, [], { timeout: -1 }),
      (e) => e instanceof RangeError && /'timeout'/.test(e.message),
    );
    assert.throws(
      () => pool.run(() => 1, [], { timeout: "1" as unknown as number }),
      (e) => e instanceof TypeError && /'timeout'/.test(e.message),
    );
    assert.throws(
      () => pool.run(() => 1, [], { signal: {} as AbortSignal }),
      (e) => e instanceof TypeError && /'signal'/.test(e.message),
    );
    assert.throws(
      () => pool.run(() => 1, [], { transfer: 5 as unknown as [] }),
      (e) => e instanceof TypeError && /'transfer'/.test(e.message),
    );
  } finally {
    pool.shutdown();
  }
});

Deno.test("ThreadPoolExecutor.map() signal ends the iteration and cancels the rest", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const controller = new AbortController();
  const seen: number[] = [];
  await assert.rejects(
    deadline(
      (async () => {
        for await (
          const n of pool.map(
            async (x: number) => {
              await new Promise((r) => setTimeout(r, 10));
              return x;
            },
            [1, 2, 3, 4, 5, 6, 7, 8],
            { signal: controller.signal },
          )
        ) {
          seen.push(n);
          if (n === 2) controller.abort(new Error("enough"));
        }
      })(),
      2000,
      "map abort",
    ),
    (e) => e instanceof Error && e.message === "enough",
  );
  assert.deepEqual(seen, [1, 2]);
});
