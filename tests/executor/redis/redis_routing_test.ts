// Which node may take a task, and what happens when none can: a task no live
// node can take fails after unroutableTimeout, naming the queue — never a
// silent wait — while busy nodes keep it waiting as long as it takes.
import assert from "node:assert/strict";
import { BrokenExecutorError } from "../../../mod.ts";
import { RedisExecutor } from "../../../executor/redis/mod.ts";
import { deadline } from "../../_deadline.ts";
import { requireRedis, startRedis } from "./_redis_server.ts";
import { cluster, markers, rawClient, WAIT_MS } from "./_cluster.ts";
import { startNode } from "./_nodes.ts";

const ignore = !requireRedis();

Deno.test("RedisExecutor() rejects a bad 'unroutableTimeout' naming it", () => {
  const make = (unroutableTimeout: unknown) => () =>
    new RedisExecutor({ unroutableTimeout: unroutableTimeout as number });
  assert.throws(make("60s"), (e) =>
    e instanceof TypeError &&
    /'unroutableTimeout' must be a number of milliseconds/.test(e.message));
  for (const bad of [0, -1, NaN]) {
    assert.throws(
      make(bad),
      (e) =>
        e instanceof RangeError && /'unroutableTimeout' must be > 0/.test(
          e.message,
        ),
      String(bad),
    );
  }
});

Deno.test({
  name:
    "RedisExecutor: a task on a queue no node serves fails after unroutableTimeout, naming the queue, and leaves the queue",
  ignore,
  async fn() {
    await using redis = await startRedis();
    await using runs = await markers();
    const TIMEOUT = 1_500;
    const executor = new RedisExecutor({
      url: redis.url,
      queue: "nobody",
      unroutableTimeout: TIMEOUT,
    });
    const submitted = performance.now();
    const future = executor.submit(async (dir: string) => {
      await Deno.writeTextFile(`${dir}/ran`, "");
    }, runs.dir);
    const error = await deadline(future.exception(), WAIT_MS, "the failure");
    const took = performance.now() - submitted;
    assert.ok(error instanceof BrokenExecutorError, String(error));
    assert.match(error.message, /No node serves the queue 'nobody'/);
    assert.match(error.message, /unroutableTimeout/);
    assert.ok(
      took >= TIMEOUT && took < TIMEOUT + 2_500,
      `failed after ${took}`,
    );
    await executor.shutdown();
    await using raw = await rawClient(redis.url);
    assert.equal(await raw.command(["XLEN", "nobody"]), 0);
    // A node that comes later does not run it.
    const node = await startNode(redis.url, "nobody", {
      maxWorkers: 1,
      permissions: "inherit",
    });
    await using late = new RedisExecutor({ url: redis.url, queue: "nobody" });
    assert.equal(await late.submit(() => 1).result(), 1);
    assert.deepEqual(runs.runs(), []);
    await node.stop();
  },
});

Deno.test({
  name:
    "RedisExecutor: a task waiting for a node runs when one comes before unroutableTimeout",
  ignore,
  async fn() {
    await using redis = await startRedis();
    await using executor = new RedisExecutor({
      url: redis.url,
      queue: "later",
      unroutableTimeout: 20_000,
    });
    const future = executor.submit((x: number) => x + 1, 41);
    const node = await startNode(redis.url, "later", { maxWorkers: 1 });
    assert.equal(await deadline(future.result(), WAIT_MS, "the task"), 42);
    await node.stop();
  },
});

Deno.test({
  name:
    "RedisExecutor: a task queued behind busy nodes waits past unroutableTimeout: a live node counts",
  ignore,
  async fn() {
    await using c = await cluster([{ maxWorkers: 1 }], {
      unroutableTimeout: 1_000,
    });
    const busy = c.executor.submit(
      () => new Promise((resolve) => setTimeout(() => resolve("slow"), 3_000)),
    );
    const queued = c.executor.submit(() => "queued");
    assert.equal(await deadline(busy.result(), WAIT_MS, "busy"), "slow");
    assert.equal(await deadline(queued.result(), WAIT_MS, "queued"), "queued");
  },
});

Deno.test({
  name:
    "RedisExecutor.shutdown() right after submitting to a queue no node serves ends once unroutableTimeout fails the tasks",
  ignore,
  async fn() {
    await using redis = await startRedis();
    const executor = new RedisExecutor({
      url: redis.url,
      queue: "nobody",
      unroutableTimeout: 1_000,
    });
    const futures = [1, 2, 3].map((n) => executor.submit((x: number) => x, n));
    await deadline(executor.shutdown(), WAIT_MS, "shutdown()");
    for (const future of futures) {
      assert.ok((await future.exception()) instanceof BrokenExecutorError);
    }
  },
});
