// README's ACL user for a queue is enough to run it: the rules are read
// from README itself, so the documented line cannot drift from what the
// executor and the node send.
import assert from "node:assert/strict";
import { RedisExecutor } from "../../../executor/redis/mod.ts";
import { deadline } from "../../_deadline.ts";
import { requireRedis, startRedis } from "./_redis_server.ts";
import { rawClient, until, WAIT_MS } from "./_cluster.ts";
import { startNode } from "./_nodes.ts";

const ignore = !requireRedis();

/** The `ACL SETUSER jobs …` command README gives, as arguments. */
function readmeAcl(): string[] {
  const readme = Deno.readTextFileSync(
    new URL("../../../README.md", import.meta.url),
  );
  const match = readme.match(/`(ACL SETUSER jobs [^`]+)`/);
  assert.ok(match, "README gives an ACL SETUSER line for the queue jobs");
  return match[1].split(/\s+/);
}

Deno.test({
  name:
    "README's ACL user for the queue 'jobs' runs a task, stats() and a node's close",
  ignore,
  async fn() {
    await using redis = await startRedis();
    {
      await using raw = await rawClient(redis.url);
      assert.equal(await raw.command(readmeAcl()), "OK");
    }
    const url = redis.url.replace("redis://", "redis://jobs:secret@");
    await using node = await startNode(url, "jobs", {
      maxWorkers: 1,
      args: ["--label", "gpu"],
    });
    await using executor = new RedisExecutor({ url, queue: "jobs" });
    const doubled = executor.submit((n: number) => n * 2, 21);
    assert.equal(await deadline(doubled.result(), WAIT_MS, "the task"), 42);
    // Labels (a label set added, its stream read) and values kept in Redis
    // (an argument and a result over inlineLimit, passed on by reference)
    // pass the ACL too.
    const big = new Uint8Array(100_000).fill(7);
    const copy = executor.run((bytes: Uint8Array) => bytes.slice(), [big], {
      labels: ["gpu"],
    });
    const sum = executor.submit(
      (bytes: Uint8Array) => bytes.reduce((a, b) => a + b, 0),
      copy,
    );
    assert.equal(await deadline(sum.result(), WAIT_MS, "the values"), 700_000);
    // The node's announcements and the executor's read of them (scripts
    // calling TIME, ZADD, ZREMRANGEBYSCORE, ZRANGE) pass the ACL too.
    await until(() => executor.stats().workers === 1, "the node seen");
    await executor.shutdown();
    {
      await using raw = await rawClient(redis.url);
      assert.deepEqual(
        await raw.command(["KEYS", "jobs:values:*"]),
        [],
        "shutdown() deleted the values",
      );
    }
    assert.equal(await node.stop(), 0);
    assert.doesNotMatch(node.stderr(), /NOPERM|no permissions/i);
  },
});
