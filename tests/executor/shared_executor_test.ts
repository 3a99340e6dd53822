// One behaviour, two kinds of worker: every test here runs against both
// executors.
import assert from "node:assert/strict";
import {
  asCompleted,
  BrokenExecutorError,
  CancelledError,
  FIRST_COMPLETED,
  fromModule,
  ShutdownError,
  TimeoutError,
  wait,
} from "../../mod.ts";
import { deadline } from "../_deadline.ts";
import { executors } from "./_executors.ts";

const WAIT = 10_000;
const tasks = fromModule<typeof import("./fixtures/tasks.ts")>(
  new URL("./fixtures/tasks.ts", import.meta.url),
);

for (const { name, make } of executors) {
  Deno.test(`${name}.submit() runs a function task and a module task`, async () => {
    await using pool = make({ maxWorkers: 2 });
    const sum = pool.submit((a: number, b: number) => a + b, 1, 2);
    const fib = pool.submit(tasks.fib, 20);
    assert.equal(await deadline(sum.result(), WAIT, "sum"), 3);
    assert.equal(await deadline(fib.result(), WAIT, "fib"), 6765);
  });

  Deno.test(`${name}.submit() passes its arguments as given: none, one array, several`, async () => {
    await using pool = make({ maxWorkers: 1 });
    const count = (...args: unknown[]) => [args.length, ...args];
    const results = await deadline(
      Promise.all([
        pool.submit(count).result(),
        pool.submit(count, [1, 2]).result(),
        pool.submit(count, undefined).result(),
        pool.submit(count, 1, [2], { three: 3 }).result(),
        pool.run(count, [[4]], { timeout: WAIT }).result(),
      ]),
      WAIT,
      "arguments",
    );
    assert.deepEqual(results, [
      [0],
      [1, [1, 2]],
      [1, undefined],
      [3, 1, [2], { three: 3 }],
      [1, [4]],
    ]);
  });

  Deno.test(`${name}.submit() brings errors back with name, message, stack and cause`, async () => {
    await using pool = make({ maxWorkers: 1 });
    const failing = pool.submit(function explode() {
      throw new TypeError("bad input", { cause: new RangeError("inner") });
    });
    const error = await deadline(
      failing.exception(),
      WAIT,
      "error",
    ) as TypeError;
    assert.ok(error instanceof TypeError);
    assert.equal(error.message, "bad input");
    assert.match(String(error.stack), /explode/);
    assert.ok(error.cause instanceof RangeError);
    class CustomError extends Error {
      override name = "CustomError";
    }
    void CustomError;
    const custom = await pool.submit(() => {
      class CustomError extends Error {
        override name = "CustomError";
      }
      throw new CustomError("mine");
    }).exception() as Error;
    assert.equal(custom.name, "CustomError");
  });

  Deno.test(`${name}.map() with chunksize yields results in order`, async () => {
    await using pool = make({ maxWorkers: 2 });
    const results: number[] = [];
    for await (
      const n of pool.map((x: number, y: number) => x * y, [1, 2, 3, 4, 5], [
        10,
        10,
        10,
        10,
        10,
      ], { chunksize: 2 })
    ) results.push(n);
    assert.deepEqual(results, [10, 20, 30, 40, 50]);
  });

  Deno.test(`${name} works with asCompleted and wait`, async () => {
    await using pool = make({ maxWorkers: 2 });
    // Start both workers first: a process takes a while to start.
    const warm = [1, 2].map(() =>
      pool.submit(() => new Promise((r) => setTimeout(r, 30))).result()
    );
    await deadline(Promise.all(warm), WAIT, "warm-up");
    const futures = [200, 10].map((ms) =>
      pool.submit(async (ms: number) => {
        await new Promise((r) => setTimeout(r, ms));
        return ms;
      }, ms)
    );
    const order: number[] = [];
    for await (const f of asCompleted(futures, { timeout: WAIT })) {
      order.push(await f.result());
    }
    assert.deepEqual(order, [10, 200]);
    // Fresh futures, so wait() has something to wait for.
    const [slow, fast] = [200, 10].map((ms) =>
      pool.submit(async (ms: number) => {
        await new Promise((r) => setTimeout(r, ms));
        return ms;
      }, ms)
    );
    const { done, notDone } = await deadline(
      wait([slow, fast], { returnWhen: FIRST_COMPLETED }),
      WAIT,
      "wait FIRST_COMPLETED",
    );
    assert.ok(done.has(fast) && done.size === 1, "fast alone is done");
    assert.ok(notDone.has(slow) && notDone.size === 1, "slow is not");
    assert.equal(await deadline(slow.result(), WAIT, "slow"), 200);
  });

  Deno.test(`${name}.run() timeout and signal fail the task and keep the pool`, async () => {
    await using pool = make({ maxWorkers: 1 });
    const stuck = pool.run(() => new Promise(() => {}), [], { timeout: 100 });
    await assert.rejects(
      deadline(stuck.result(), WAIT, "timeout"),
      TimeoutError,
    );
    const controller = new AbortController();
    const aborted = pool.run(() => new Promise(() => {}), [], {
      signal: controller.signal,
    });
    const queued = pool.run((x: number) => x, [5], {
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(new Error("stop")), 50);
    await assert.rejects(deadline(aborted.result(), WAIT, "abort"), /stop/);
    await assert.rejects(queued.result(), CancelledError);
    assert.equal(
      await deadline(pool.submit(() => 7).result(), WAIT, "after"),
      7,
    );
  });

  Deno.test(`${name} fails an uncloneable argument with DataCloneError and goes on`, async () => {
    await using pool = make({ maxWorkers: 1 });
    const bad = (() => {
      try {
        return pool.submit((f: unknown) => typeof f, () => 1);
      } catch (error) {
        return error;
      }
    })();
    const error = bad instanceof Error ? bad : await deadline(
      (bad as { exception(): Promise<unknown> }).exception(),
      WAIT,
      "clone",
    );
    assert.equal((error as Error).name, "DataCloneError");
    assert.equal(
      await deadline(pool.submit(() => 1).result(), WAIT, "next"),
      1,
    );
  });

  Deno.test(`${name} fails a task whose worker exits with BrokenExecutorError; queued tasks run`, async () => {
    await using pool = make({ maxWorkers: 1 });
    const dying = pool.submit(() => Deno.exit(3));
    const queued = pool.submit((x: number) => x + 1, 1);
    await assert.rejects(
      deadline(dying.result(), WAIT, "exit"),
      BrokenExecutorError,
    );
    assert.equal(await deadline(queued.result(), WAIT, "queued"), 2);
  });

  Deno.test(`${name}.shutdown() is idempotent and refuses later work`, async () => {
    const pool = make({ maxWorkers: 1 });
    const future = pool.submit(() => "done");
    await deadline(pool.shutdown(), WAIT, "shutdown");
    await pool.shutdown();
    assert.equal(await future.result(), "done");
    assert.throws(() => pool.submit(() => 1), ShutdownError);
  });
}
