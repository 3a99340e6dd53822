// RedisExecutor against a private redis-server and real node processes:
// the behaviours every executor shares, cancel, shutdown and the options.
import assert from "node:assert/strict";
import {
  asCompleted,
  CancelledError,
  FIRST_COMPLETED,
  fromModule,
  reportProgress,
  ShutdownError,
  ThreadPoolExecutor,
  TimeoutError,
  wait,
} from "../../../mod.ts";
import { RedisExecutor } from "../../../executor/redis/mod.ts";
import { deadline } from "../../_deadline.ts";
import { requireRedis, startRedis } from "./_redis_server.ts";
import {
  cluster,
  firstProgress,
  markers,
  rawClient,
  until,
  WAIT_MS,
} from "./_cluster.ts";

const ignore = !requireRedis();
const fixtures = new URL("../fixtures/", import.meta.url).href;
const tasks = fromModule<typeof import("../fixtures/tasks.ts")>(
  new URL("tasks.ts", fixtures),
);

// A task that reports `name` as progress and leaves a marker file named
// `name` in `dir` as it starts, then takes `ms`: which tasks ran, seen from
// outside the node.
const mark = async (dir: string, name: string, ms: number) => {
  reportProgress(name);
  await Deno.writeTextFile(`${dir}/${name}`, "");
  await new Promise((r) => setTimeout(r, ms));
  return name;
};

Deno.test({
  name: "RedisExecutor.submit() runs a function task and a module task",
  ignore,
  async fn() {
    // Importing a file:// module needs read permission in the node's pool.
    await using c = await cluster([
      { permissions: "inherit", allowModules: [fixtures] },
    ]);
    const sum = c.executor.submit((a: number, b: number) => a + b, 1, 2);
    const fib = c.executor.submit(tasks.fib, 20);
    assert.equal(await deadline(sum.result(), WAIT_MS, "sum"), 3);
    assert.equal(await deadline(fib.result(), WAIT_MS, "fib"), 6765);
    // Structured-clone fidelity both ways.
    const value = new Map<unknown, unknown>([[1n, new Set([new Date(0)])]]);
    const echoed = c.executor.submit(tasks.echo, value);
    assert.deepEqual(await deadline(echoed.result(), WAIT_MS, "echo"), value);
  },
});

Deno.test({
  name:
    "RedisExecutor.submit() brings errors back with name, message, stack and cause",
  ignore,
  async fn() {
    await using c = await cluster();
    const failing = c.executor.submit(function explode() {
      throw new TypeError("bad input", { cause: new RangeError("inner") });
    });
    const error = await deadline(
      failing.exception(),
      WAIT_MS,
      "error",
    ) as TypeError;
    assert.ok(error instanceof TypeError);
    assert.equal(error.message, "bad input");
    assert.match(String(error.stack), /explode/);
    assert.ok(error.cause instanceof RangeError);
    assert.equal((error.cause as Error).message, "inner");
    const custom = await deadline(
      c.executor.submit(() => {
        class CustomError extends Error {
          override name = "CustomError";
        }
        throw new CustomError("mine");
      }).exception(),
      WAIT_MS,
      "custom error",
    ) as Error;
    assert.equal(custom.name, "CustomError");
    assert.equal(custom.message, "mine");
  },
});

Deno.test({
  name: "RedisExecutor.map() with chunksize yields results in order",
  ignore,
  async fn() {
    await using c = await cluster([{}, {}]);
    const results: number[] = [];
    const xs = [1, 2, 3, 4, 5, 6, 7];
    for await (
      const n of c.executor.map((x: number, y: number) => x * y, xs, xs, {
        chunksize: 3,
        timeout: WAIT_MS,
      })
    ) results.push(n);
    assert.deepEqual(results, xs.map((x) => x * x));
    // A call that throws ends the chunk and is thrown at its position.
    const seen: number[] = [];
    await assert.rejects(
      (async () => {
        for await (
          const n of c.executor.map(
            (x: number) => {
              if (x === 4) throw new RangeError(`no ${x}`);
              return x;
            },
            xs,
            { chunksize: 3, timeout: WAIT_MS },
          )
        ) seen.push(n);
      })(),
      (error: Error) => error instanceof RangeError && error.message === "no 4",
    );
    assert.deepEqual(seen, [1, 2, 3]);
  },
});

Deno.test({
  name:
    "RedisExecutor futures mix with a ThreadPoolExecutor's in asCompleted and wait",
  ignore,
  async fn() {
    await using c = await cluster();
    await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
    const sleep = async (ms: number) => {
      await new Promise((r) => setTimeout(r, ms));
      return ms;
    };
    // Warm both up: a node's worker starts on its first task.
    await deadline(c.executor.submit(sleep, 1).result(), WAIT_MS, "warm-up");
    await deadline(pool.submit(sleep, 1).result(), WAIT_MS, "warm-up");
    const remote = c.executor.submit(sleep, 600);
    const local = pool.submit(sleep, 10);
    const order: number[] = [];
    for await (const f of asCompleted([remote, local], { timeout: WAIT_MS })) {
      order.push(await f.result());
    }
    assert.deepEqual(order, [10, 600]);
    // Fresh futures, so wait() has something to wait for: the remote one
    // is fast this time.
    const fast = c.executor.submit(sleep, 10);
    const slow = pool.submit(sleep, 600);
    const { done, notDone } = await deadline(
      wait([slow, fast], { returnWhen: FIRST_COMPLETED }),
      WAIT_MS,
      "wait FIRST_COMPLETED",
    );
    assert.ok(done.has(fast) && done.size === 1, "fast alone is done");
    assert.ok(notDone.has(slow) && notDone.size === 1, "slow is not");
    assert.equal(await deadline(slow.result(), WAIT_MS, "slow"), 600);
  },
});

Deno.test({
  name:
    "RedisExecutor.run() timeout and signal fail the task on its node, which goes on",
  ignore,
  async fn() {
    await using c = await cluster([{ maxWorkers: 1 }]);
    const stuck = c.executor.run(() => new Promise(() => {}), [], {
      timeout: 200,
    });
    await assert.rejects(
      deadline(stuck.result(), WAIT_MS, "timeout"),
      (error: Error) => {
        assert.ok(error instanceof TimeoutError);
        assert.match(error.message, /timed out after 200 ms.*on node/);
        return true;
      },
    );
    const controller = new AbortController();
    const aborted = c.executor.run(
      () => {
        reportProgress("started");
        return new Promise(() => {});
      },
      [],
      { signal: controller.signal },
    );
    const queued = c.executor.run((x: number) => x, [5], {
      signal: controller.signal,
    });
    await firstProgress(aborted, "the task's start");
    assert.equal(aborted.running(), true);
    assert.equal(queued.running(), false);
    controller.abort(new Error("stop"));
    await assert.rejects(aborted.result(), /stop/);
    await assert.rejects(queued.result(), CancelledError);
    // The node's only worker was stopped and replaced.
    assert.equal(
      await deadline(c.executor.submit(() => 7).result(), WAIT_MS, "after"),
      7,
    );
  },
});

Deno.test({
  name:
    "RedisExecutor.submit() throws DataCloneError for an uncloneable argument and goes on",
  ignore,
  async fn() {
    await using c = await cluster();
    assert.throws(
      () => c.executor.submit((f: unknown) => typeof f, () => 1),
      (error: Error) => error.name === "DataCloneError",
    );
    assert.equal(
      await deadline(c.executor.submit(() => 1).result(), WAIT_MS, "next"),
      1,
    );
  },
});

Deno.test({
  name: "RedisExecutor.shutdown() is idempotent and refuses later work",
  ignore,
  async fn() {
    await using c = await cluster();
    const future = c.executor.submit(() => "done");
    await deadline(c.executor.shutdown(), WAIT_MS, "shutdown");
    await c.executor.shutdown();
    assert.equal(await future.result(), "done");
    assert.throws(() => c.executor.submit(() => 1), ShutdownError);
    // It removed its reply stream on the way out.
    await using raw = await rawClient(c.redis.url);
    const keys = await raw.command(["KEYS", `${c.queue}:replies:*`]);
    assert.deepEqual(keys, []);
  },
});

Deno.test({
  name:
    "RedisExecutor: cancel() before a node takes a task returns true and it never runs",
  ignore,
  async fn() {
    await using runs = await markers();
    await using c = await cluster([{ maxWorkers: 1, permissions: "inherit" }]);
    const busy = c.executor.submit(mark, runs.dir, "busy", 300);
    await runs.waitFor(1, "the first task's start");
    // Cancelled in the turn it was submitted in: never sent.
    const instant = c.executor.submit(mark, runs.dir, "instant", 0);
    assert.equal(instant.cancel(), true);
    // Cancelled once its entry is in the queue: the entry is removed.
    await using raw = await rawClient(c.redis.url);
    const doomed = c.executor.submit(mark, runs.dir, "doomed", 0);
    await until(
      async () => await raw.command(["XLEN", c.queue]) === 2,
      "the entry in the queue",
    );
    assert.equal(doomed.cancel(), true);
    assert.equal(doomed.cancel(), true);
    await assert.rejects(doomed.result(), CancelledError);
    // The node has one worker and takes tasks in order: "after" runs once
    // "busy" is done, and "doomed" would have run before it.
    const after = c.executor.submit(mark, runs.dir, "after", 0);
    assert.equal(await deadline(busy.result(), WAIT_MS, "busy"), "busy");
    assert.equal(await deadline(after.result(), WAIT_MS, "after"), "after");
    assert.deepEqual(runs.runs(), ["after", "busy"]);
    assert.equal(await raw.command(["XLEN", c.queue]), 0);
  },
});

Deno.test({
  name:
    "RedisExecutor.shutdown({ cancelFutures }) removes the queued tasks; running ones finish",
  ignore,
  async fn() {
    await using runs = await markers();
    await using c = await cluster([{ maxWorkers: 1, permissions: "inherit" }]);
    const running = c.executor.submit(mark, runs.dir, "running", 300);
    await firstProgress(running, "the task's start");
    await runs.waitFor(1, "the first task's marker");
    const queued = [1, 2, 3].map((n) =>
      c.executor.submit(mark, runs.dir, `queued-${n}`, 0)
    );
    await deadline(
      c.executor.shutdown({ cancelFutures: true }),
      WAIT_MS,
      "shutdown",
    );
    assert.ok(queued.every((future) => future.cancelled()));
    assert.equal(await running.result(), "running");
    // Nothing is left in the queue for a node to run later.
    await using raw = await rawClient(c.redis.url);
    assert.equal(await raw.command(["XLEN", c.queue]), 0);
    assert.deepEqual(runs.runs(), ["running"]);
  },
});

Deno.test({
  name: "RedisExecutor: past maxQueued, submit throws a RangeError naming it",
  ignore,
  async fn() {
    await using c = await cluster([], { maxQueued: 2 });
    const first = c.executor.submit(() => 1);
    c.executor.submit(() => 2);
    assert.throws(
      () => c.executor.submit(() => 3),
      (error: Error) =>
        error instanceof RangeError && /'maxQueued' is 2/.test(error.message),
    );
    // A cancelled task no longer counts.
    first.cancel();
    c.executor.submit(() => 4);
    await c.executor.shutdown({ cancelFutures: true });
  },
});

Deno.test({
  name:
    "RedisExecutor: a task's own error is not retried: it runs once and leaves the queue",
  ignore,
  async fn() {
    await using runs = await markers();
    await using c = await cluster(
      [{ permissions: "inherit" }, { permissions: "inherit" }],
      { lease: 200 },
    );
    const failing = c.executor.submit(async (dir: string) => {
      await Deno.writeTextFile(`${dir}/${crypto.randomUUID()}`, "");
      throw new SyntaxError("mine");
    }, runs.dir);
    await assert.rejects(
      deadline(failing.result(), WAIT_MS, "failing"),
      SyntaxError,
    );
    await using raw = await rawClient(c.redis.url);
    // Acknowledged and deleted: no node can take it again.
    await until(
      async () =>
        await raw.command(["XLEN", c.queue]) === 0 &&
        (await raw.command(["XPENDING", c.queue, "nodes"]) as unknown[])[0] ===
          0,
      "the entry's acknowledgement",
    );
    assert.equal(runs.runs().length, 1);
  },
});

Deno.test("RedisExecutor rejects bad options with TypeError or RangeError naming them", () => {
  const make = (options: unknown) => () =>
    new RedisExecutor(
      options as ConstructorParameters<typeof RedisExecutor>[0],
    );
  assert.throws(make({ url: "not a url" }), /'url' is not a URL/);
  assert.throws(
    make({ url: "http://127.0.0.1:6379" }),
    (error: Error) =>
      error instanceof TypeError &&
      /'url' must start with redis:\/\/ or rediss:\/\//.test(error.message),
  );
  assert.throws(make({ url: 6379 }), TypeError);
  assert.throws(
    make({ lease: -1 }),
    (error: Error) =>
      error instanceof RangeError &&
      error.message ===
        "Cannot create RedisExecutor as 'lease' must be > 0: current value is -1",
  );
  assert.throws(make({ lease: Infinity }), /'lease' must be finite/);
  assert.throws(make({ lease: "1s" }), TypeError);
  assert.throws(make({ connectTimeout: 0 }), /'connectTimeout' must be > 0/);
  assert.throws(make({ maxAttempts: 0 }), /'maxAttempts' must be an integer/);
  assert.throws(make({ maxAttempts: 1.5 }), RangeError);
  assert.throws(make({ maxQueued: 0 }), /'maxQueued' must be an integer/);
  assert.throws(make({ queue: "" }), /'queue' must be a non-empty string/);
  assert.throws(
    make({ leese: 1 }),
    (error: Error) =>
      error instanceof TypeError &&
      /'leese' is not an option/.test(error.message),
  );
  assert.throws(make(null), /'options' must be an object/);
});

Deno.test({
  name:
    "RedisExecutor: a submit while Redis cannot be reached fails within connectTimeout",
  ignore,
  async fn() {
    // A port that was free a moment ago: nothing listens there.
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const { port } = listener.addr as Deno.NetAddr;
    listener.close();
    const executor = new RedisExecutor({
      url: `redis://127.0.0.1:${port}`,
      connectTimeout: 300,
    });
    const started = performance.now();
    const future = executor.submit(() => 1);
    const error = await deadline(future.exception(), WAIT_MS, "failure");
    assert.equal((error as Error).name, "BrokenExecutorError");
    assert.match((error as Error).message, /within 300 ms/);
    assert.ok(performance.now() - started < 300 + 2000);
    await deadline(executor.shutdown(), WAIT_MS, "shutdown");
  },
});

Deno.test({
  name:
    "RedisExecutor: tasks submitted before the connection is up wait for it",
  ignore,
  async fn() {
    await using redis = await startRedis();
    const executor = new RedisExecutor({ url: redis.url, queue: "early" });
    // Submitted in the constructor's turn, before any connection exists.
    const future = executor.submit((x: number) => x * 2, 21);
    const { startNode } = await import("./_nodes.ts");
    await using _node = await startNode(redis.url, "early");
    assert.equal(await deadline(future.result(), WAIT_MS, "result"), 42);
    await executor.shutdown();
  },
});
