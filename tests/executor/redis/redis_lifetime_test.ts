// What an executor or node leaves behind: a program that never calls
// shutdown() still ends, and what each side writes to Redis for itself
// expires once its owner is gone (and is removed at once by its close).
import assert from "node:assert/strict";
import { reportProgress, ThreadPoolExecutor } from "../../../mod.ts";
import { RedisExecutor, RedisNode } from "../../../executor/redis/mod.ts";
import { deadline } from "../../_deadline.ts";
import { runProgram } from "../../_program.ts";
import { requireRedis, startRedis } from "./_redis_server.ts";
import {
  firstProgress,
  rawClient,
  type RawRedis,
  until,
  WAIT_MS,
} from "./_cluster.ts";
import { startNode } from "./_nodes.ts";

const ignore = !requireRedis();
const CONFIG = new URL("../../../deno.json", import.meta.url).pathname;
const REDIS_MOD =
  new URL("../../../executor/redis/mod.ts", import.meta.url).href;

/** The keys of the server that match `pattern`, sorted. */
async function keys(raw: RawRedis, pattern: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = "0";
  do {
    const [next, batch] = await raw.command([
      "SCAN",
      cursor,
      "MATCH",
      pattern,
    ]) as [string, string[]];
    cursor = next;
    found.push(...batch);
  } while (cursor !== "0");
  return found.toSorted();
}

const pttl = async (raw: RawRedis, key: string) =>
  Number(await raw.command(["PTTL", key]));

Deno.test({
  name:
    "RedisExecutor: a program that never calls shutdown() ends soon after its last future settles, and leaves no reply stream",
  ignore,
  async fn() {
    await using redis = await startRedis();
    await using node = await startNode(redis.url, "q", { maxWorkers: 1 });
    const run = await runProgram(
      `
      import { RedisExecutor } from "${REDIS_MOD}";
      const cluster = new RedisExecutor({ url: "${redis.url}", queue: "q" });
      console.log(await cluster.submit((n: number) => n + 1, 41).result());
      console.log("last", performance.timeOrigin + performance.now());
      `,
      { flags: ["-A", "--config", CONFIG], limitMs: 20_000 },
    );
    const ended = Date.now();
    assert.equal(run.code, 0, run.stderr);
    const [value, last] = run.stdout.trim().split("\n");
    assert.equal(value, "42");
    const after = ended - Number(last.split(" ")[1]);
    // IDLE_MS (1 s) to let go of Redis, then the runtime's exit.
    assert.ok(
      after < 3_000,
      `ended ${Math.round(after)} ms after its last line`,
    );
    await using raw = await rawClient(redis.url);
    assert.deepEqual(await keys(raw, "q:replies:*"), []);
    await node.stop();
  },
});

Deno.test({
  name:
    "RedisExecutor: its reply stream has a time-to-live while it lives, also when its program is SIGKILLed; shutdown() removes it",
  ignore,
  async fn() {
    await using redis = await startRedis();
    await using raw = await rawClient(redis.url);
    const executor = new RedisExecutor({ url: redis.url, queue: "q" });
    await until(
      async () => (await keys(raw, "q:replies:*")).length === 1,
      "the reply stream",
    );
    const [stream] = await keys(raw, "q:replies:*");
    assert.equal(stream, `q:replies:${executor.id}`);
    const ttl = await pttl(raw, stream);
    assert.ok(ttl > 0 && ttl <= 60_000, `PTTL ${ttl}`);
    await executor.shutdown();
    assert.deepEqual(await keys(raw, "q:replies:*"), []);
    // A program killed while it is connected: its stream stays, but expires.
    await using _node = await startNode(redis.url, "q2", { maxWorkers: 1 });
    const run = await runProgram(
      `
      import { RedisExecutor } from "${REDIS_MOD}";
      const cluster = new RedisExecutor({ url: "${redis.url}", queue: "q2" });
      await cluster.submit(() => 1).result();
      Deno.kill(Deno.pid, "SIGKILL");
      `,
      { flags: ["-A", "--config", CONFIG] },
    );
    assert.equal(run.signal, "SIGKILL", run.stderr);
    const left = await keys(raw, "q2:replies:*");
    assert.equal(left.length, 1);
    const killedTtl = await pttl(raw, left[0]);
    assert.ok(killedTtl > 0 && killedTtl <= 60_000, `PTTL ${killedTtl}`);
  },
});

Deno.test({
  name:
    "RedisNode: its control stream and the queue's live-node set have a time-to-live; close() removes the control stream",
  ignore,
  async fn() {
    await using redis = await startRedis();
    await using raw = await rawClient(redis.url);
    await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
    const node = new RedisNode({ url: redis.url, queue: "q", executor: pool });
    await deadline(node.ready, WAIT_MS, "ready");
    const control = `q:control:${node.id}`;
    assert.deepEqual(await keys(raw, "q:control:*"), [control]);
    for (const key of [control, "q:nodes"]) {
      const ttl = await pttl(raw, key);
      assert.ok(ttl > 0 && ttl <= 60_000, `${key}: PTTL ${ttl}`);
    }
    await node.close();
    assert.deepEqual(await keys(raw, "q:control:*"), []);
  },
});

Deno.test({
  name:
    "The queue's task events and label sets have a time-to-live (a day), renewed by the nodes, so a queue nobody serves leaves them not for ever",
  ignore,
  async fn() {
    await using redis = await startRedis();
    await using raw = await rawClient(redis.url);
    const day = 24 * 60 * 60_000;
    await using executor = new RedisExecutor({ url: redis.url, queue: "q" });
    // No node yet: the executor sets the time-to-live with the label set.
    const labelled = executor.run((n: number) => n + 1, [1], {
      labels: ["gpu"],
    });
    const set = async () => {
      for (const give = Date.now() + WAIT_MS; Date.now() < give;) {
        if (await raw.command(["EXISTS", "q:labelsets"]) === 1) return;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };
    await set();
    const labelSets = await pttl(raw, "q:labelsets");
    assert.ok(
      labelSets > 0 && labelSets <= day,
      `q:labelsets: PTTL ${labelSets}`,
    );
    await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
    const node = new RedisNode({
      url: redis.url,
      queue: "q",
      executor: pool,
      labels: ["gpu"],
    });
    await deadline(node.ready, WAIT_MS, "ready");
    assert.equal(await deadline(labelled.result(), WAIT_MS, "labelled"), 2);
    // A node renews both.
    await raw.command(["PERSIST", "q:labelsets"]);
    const renewed = async (key: string) => {
      for (const give = Date.now() + WAIT_MS; Date.now() < give;) {
        const ttl = await pttl(raw, key);
        if (ttl > 0) return ttl;
        // The next announcement is at most a second away.
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return await pttl(raw, key);
    };
    for (const key of ["q:events", "q:labelsets"]) {
      const ttl = await renewed(key);
      assert.ok(ttl > 0 && ttl <= day, `${key}: PTTL ${ttl}`);
    }
    await node.close();
  },
});

Deno.test({
  name:
    "RedisExecutor: a stop for a node whose control stream is gone does not make it again",
  ignore,
  async fn() {
    await using redis = await startRedis();
    await using raw = await rawClient(redis.url);
    await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
    await using node = new RedisNode({
      url: redis.url,
      queue: "q",
      executor: pool,
    });
    await deadline(node.ready, WAIT_MS, "ready");
    const executor = new RedisExecutor({ url: redis.url, queue: "q" });
    const controller = new AbortController();
    const future = executor.run(
      () => {
        reportProgress("started");
        return new Promise((resolve) => setTimeout(resolve, 300));
      },
      [],
      { signal: controller.signal },
    );
    await firstProgress(future, "the task's start");
    // As if the node had died and its stream expired.
    const control = `q:control:${node.id}`;
    assert.equal(await raw.command(["DEL", control]), 1);
    controller.abort(new Error("stop"));
    await future.exception();
    // shutdown() waits for the stop's write.
    await executor.shutdown();
    assert.equal(await raw.command(["EXISTS", control]), 0);
  },
});
