// RedisNode: as a library object in this process, and as the node_main
// program: its options, what it admits, whose permissions tasks get, and
// how it leaves.
import assert from "node:assert/strict";
import {
  Executor,
  fromModule,
  reportProgress,
  ThreadPoolExecutor,
} from "../../../mod.ts";
import { RedisExecutor, RedisNode } from "../../../executor/redis/mod.ts";
import { deadline } from "../../_deadline.ts";
import { requireRedis, startRedis } from "./_redis_server.ts";
import {
  cluster,
  firstProgress,
  rawClient,
  until,
  WAIT_MS,
} from "./_cluster.ts";

const ignore = !requireRedis();
const fixtures = new URL("../fixtures/", import.meta.url).href;
const tasks = fromModule<typeof import("../fixtures/tasks.ts")>(
  new URL("tasks.ts", fixtures),
);

Deno.test("RedisNode rejects bad options with TypeError or RangeError naming them", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const make = (options: Record<string, unknown>) => () =>
    new RedisNode(
      options as unknown as ConstructorParameters<typeof RedisNode>[0],
    );
  assert.throws(
    make({}),
    (error: Error) =>
      error instanceof TypeError &&
      /'executor' must be a ThreadPoolExecutor or ProcessPoolExecutor/.test(
        error.message,
      ),
  );
  assert.throws(make({ executor: {} }), /'executor' must be/);
  // An executor, but not a pool: it has no workers to run tasks on.
  class Inline extends Executor {
    run(): never {
      throw new Error("not used");
    }
    shutdown(): Promise<void> {
      return Promise.resolve();
    }
  }
  assert.throws(make({ executor: new Inline() }), /'executor' must be/);
  assert.throws(
    make({ executor: pool, url: "http://x" }),
    /'url' must start with redis:\/\//,
  );
  assert.throws(make({ executor: pool, queue: 1 }), /'queue' must be/);
  assert.throws(
    make({ executor: pool, allowModules: "https://x/" }),
    /'allowModules' must be an array/,
  );
  assert.throws(
    make({ executor: pool, allowModules: ["./relative/"] }),
    /'allowModules\[0\]' must be an absolute URL/,
  );
  assert.throws(
    make({ executor: pool, prefetch: -1 }),
    (error: Error) =>
      error instanceof RangeError &&
      /'prefetch' must be "auto" or an integer >= 0/.test(
        error.message,
      ),
  );
  assert.throws(
    make({ executor: pool, prefetch: "fast" }),
    (error: Error) =>
      error instanceof TypeError &&
      /'prefetch' must be "auto" or a number: current value is "fast"/.test(
        error.message,
      ),
  );
  assert.throws(
    make({ executor: pool, history: 1.5 }),
    (error: Error) =>
      error instanceof RangeError &&
      /Cannot create RedisNode as 'history' must be an integer >= 0: current value is 1.5/
        .test(error.message),
  );
  assert.throws(
    make({ executor: pool, history: "10" }),
    /'history' must be a number/,
  );
  assert.throws(
    make({ executor: pool, connectTimeout: 0 }),
    /'connectTimeout' must be > 0/,
  );
  assert.throws(
    make({ executor: pool, alowModules: [] }),
    /'alowModules' is not an option/,
  );
});

Deno.test({
  name:
    "RedisNode runs tasks on the executor it was given; close() leaves the group",
  ignore,
  async fn() {
    await using redis = await startRedis();
    await using pool = new ThreadPoolExecutor({ maxWorkers: 2 });
    const node = new RedisNode({ url: redis.url, queue: "q", executor: pool });
    await deadline(node.ready, WAIT_MS, "ready");
    await using executor = new RedisExecutor({ url: redis.url, queue: "q" });
    const futures = [1, 2, 3, 4].map((n) =>
      executor.submit((x: number) => x * 10, n)
    );
    const values = await deadline(
      Promise.all(futures.map((f) => f.result())),
      WAIT_MS,
      "results",
    );
    assert.deepEqual(values, [10, 20, 30, 40]);
    await using raw = await rawClient(redis.url);
    const consumers = () =>
      raw.command(["XINFO", "CONSUMERS", "q", "nodes"]) as Promise<unknown[]>;
    assert.equal((await consumers()).length, 1);
    await deadline(node.close(), WAIT_MS, "close");
    await node.close();
    assert.deepEqual(await consumers(), []);
    assert.equal(await raw.command(["EXISTS", `q:control:${node.id}`]), 0);
    // The executor it ran on stays open.
    assert.equal(await pool.submit(() => 1).result(), 1);
  },
});

Deno.test({
  name:
    "RedisNode.ready rejects when Redis cannot be reached in connectTimeout",
  ignore,
  async fn() {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const { port } = listener.addr as Deno.NetAddr;
    listener.close();
    await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
    const node = new RedisNode({
      url: `redis://127.0.0.1:${port}`,
      executor: pool,
      connectTimeout: 200,
    });
    await assert.rejects(
      deadline(node.ready, WAIT_MS, "ready"),
      /within 200 ms/,
    );
    await node.close();
  },
});

Deno.test({
  name:
    "RedisNode refuses a module task outside allowModules with an error naming the URL and the option",
  ignore,
  async fn() {
    await using c = await cluster([
      { permissions: "inherit", allowModules: ["https://example.com/tasks/"] },
    ]);
    const error = await deadline(
      c.executor.submit(tasks.add, 1, 2).exception(),
      WAIT_MS,
      "refusal",
    ) as Error;
    assert.ok(error instanceof Deno.errors.NotCapable, String(error));
    assert.ok(error.message.includes(new URL("tasks.ts", fixtures).href));
    assert.match(error.message, /'allowModules'/);
    assert.match(error.message, /https:\/\/example\.com\/tasks\//);
    // A function task still runs.
    assert.equal(
      await deadline(c.executor.submit(() => 1).result(), WAIT_MS, "next"),
      1,
    );
  },
});

Deno.test({
  name: "RedisNode: a node with no allowModules refuses every module task",
  ignore,
  async fn() {
    await using c = await cluster([{ permissions: "inherit" }]);
    const error = await deadline(
      c.executor.submit(tasks.add, 1, 2).exception(),
      WAIT_MS,
      "refusal",
    ) as Error;
    assert.ok(error instanceof Deno.errors.NotCapable, String(error));
    assert.match(error.message, /none allowed/);
  },
});

Deno.test({
  name: "RedisNode: the node's executor decides permissions, never the task",
  ignore,
  async fn() {
    await using c = await cluster([{ permissions: "none" }]);
    const read = c.executor.submit(() => Deno.readTextFile("/etc/hostname"));
    const error = await deadline(read.exception(), WAIT_MS, "denied");
    assert.ok(error instanceof Deno.errors.NotCapable, String(error));
  },
});

Deno.test({
  name:
    "RedisNode program: SIGTERM finishes the running task, answers it and exits 0",
  ignore,
  async fn() {
    await using c = await cluster([{ maxWorkers: 1 }]);
    const slow = c.executor.submit(async () => {
      reportProgress("started");
      await new Promise((resolve) => setTimeout(resolve, 500));
      return "finished";
    });
    await firstProgress(slow, "the task's start");
    const exit = c.nodes[0].stop();
    assert.equal(await deadline(slow.result(), WAIT_MS, "result"), "finished");
    assert.equal(await exit, 0);
  },
});

Deno.test({
  name: "RedisNode with prefetch takes that many tasks beyond its free workers",
  ignore,
  async fn() {
    await using c = await cluster([{ maxWorkers: 1, prefetch: 2 }]);
    const futures = [1, 2, 3, 4, 5].map(() =>
      c.executor.submit(() => {
        reportProgress("started");
        return new Promise((r) => setTimeout(r, 300));
      })
    );
    await firstProgress(futures[0], "the first task's start");
    await using raw = await rawClient(c.redis.url);
    // One on the worker and two taken ahead; the rest in the queue.
    await until(
      async () =>
        (await raw.command(["XPENDING", c.queue, "nodes"]) as number[])[0] ===
          3,
      "three tasks pending on the node",
    );
    // A task taken ahead counts as started (prefetch's trade-off).
    await until(
      () => futures.filter((f) => f.running()).length === 3,
      "three futures running",
    );
    // The three taken are the first three; the last two wait in the queue.
    assert.deepEqual(futures.map((f) => f.state), [
      "running",
      "running",
      "running",
      "pending",
      "pending",
    ]);
    const [length, [pending]] = await Promise.all([
      raw.command(["XLEN", c.queue]),
      raw.command(["XPENDING", c.queue, "nodes"]) as Promise<number[]>,
    ]);
    assert.equal(length as number - pending, 2, "two entries not taken");
    await deadline(
      Promise.all(futures.map((f) => f.result())),
      WAIT_MS,
      "all tasks",
    );
  },
});
