// RedisExecutor when things die: a node killed mid-task, nodes killed until
// maxAttempts is spent, a lease shorter than a task, Redis stopped and
// restarted, the executor's connections killed.
import assert from "node:assert/strict";
import { BrokenExecutorError, reportProgress } from "../../../mod.ts";
import { deadline } from "../../_deadline.ts";
import { requireRedis } from "./_redis_server.ts";
import {
  type Cluster,
  cluster,
  firstProgress,
  markers,
  rawClient,
  until,
  WAIT_MS,
} from "./_cluster.ts";
import type { NodeProcess } from "./_nodes.ts";

const ignore = !requireRedis();

// Writes `<pid>-<uuid>` into `dir` (in a thread pool, Deno.pid is the
// node's), waits `ms`, returns the pid: which node ran it, and how often.
async function marked(dir: string, ms: number): Promise<number> {
  await Deno.writeTextFile(`${dir}/${Deno.pid}-${crypto.randomUUID()}`, "");
  await new Promise((resolve) => setTimeout(resolve, ms));
  return Deno.pid;
}

const pidOf = (run: string) => Number(run.split("-")[0]);

function nodeWithPid(c: Cluster, pid: number): NodeProcess {
  const node = c.nodes.find((node) => node.pid === pid);
  assert.ok(node, `no node with pid ${pid}`);
  return node;
}

const inherit = { permissions: "inherit" as const, maxWorkers: 1 };

Deno.test({
  name:
    "RedisExecutor: a node SIGKILLed mid-task loses nothing: another runs it after the lease",
  ignore,
  async fn() {
    await using runs = await markers();
    const LEASE = 800;
    await using c = await cluster([inherit, inherit], { lease: LEASE });
    const future = c.executor.submit(marked, runs.dir, 1500);
    const [first] = await runs.waitFor(1, "the first run");
    const killedAt = performance.now();
    const victim = nodeWithPid(c, pidOf(first));
    victim.kill("SIGKILL");
    await victim.exited;
    const survivor = c.nodes.find((node) => node !== victim)!;
    const pid = await deadline(future.result(), WAIT_MS, "the second run");
    assert.equal(pid, survivor.pid);
    assert.ok(performance.now() - killedAt >= LEASE, "taken before the lease");
    // The killed run is neither a completion nor a failure.
    const stats = c.executor.stats();
    assert.equal(stats.completed, 1);
    assert.equal(stats.failed, 0);
    assert.deepEqual(
      runs.runs().map(pidOf).toSorted(),
      [
        victim.pid,
        survivor.pid,
      ].toSorted(),
    );
  },
});

Deno.test({
  name:
    "RedisExecutor: after maxAttempts deliveries to nodes that died, the task fails with BrokenExecutorError",
  ignore,
  async fn() {
    await using runs = await markers();
    await using c = await cluster([inherit, inherit, inherit], {
      lease: 500,
      maxAttempts: 2,
    });
    const future = c.executor.submit(marked, runs.dir, 60_000);
    for (let killed = 1; killed <= 2; killed++) {
      const all = await runs.waitFor(killed, `run ${killed}`);
      const victim = nodeWithPid(c, pidOf(all[killed - 1]));
      victim.kill("SIGKILL");
      await victim.exited;
    }
    const error = await deadline(future.exception(), WAIT_MS, "the failure");
    assert.ok(error instanceof BrokenExecutorError, String(error));
    assert.match(
      error.message,
      /delivered 2 times to nodes that died under it \(maxAttempts 2\)/,
    );
    // The third node did not run it.
    assert.equal(runs.runs().length, 2);
  },
});

Deno.test({
  name:
    "RedisExecutor: a task longer than its lease runs exactly once with two nodes",
  ignore,
  async fn() {
    await using runs = await markers();
    await using c = await cluster([inherit, inherit], { lease: 300 });
    // Five leases long, while the other node looks for expired leases.
    const future = c.executor.submit(marked, runs.dir, 1500);
    const pid = await deadline(future.result(), WAIT_MS, "the task");
    assert.equal(runs.runs().length, 1);
    assert.equal(pidOf(runs.runs()[0]), pid);
    // And nothing of it is left for a node to take.
    await using raw = await rawClient(c.redis.url);
    await until(
      async () => await raw.command(["XLEN", c.queue]) === 0,
      "the entry's removal",
    );
  },
});

Deno.test({
  name:
    "RedisExecutor: Redis stopped mid-task fails pending futures within connectTimeout; after a restart it works again",
  ignore,
  async fn() {
    const CONNECT_TIMEOUT = 1000;
    await using c = await cluster([{ maxWorkers: 1 }], {
      connectTimeout: CONNECT_TIMEOUT,
    });
    assert.equal(
      await deadline(c.executor.submit(() => 1).result(), WAIT_MS, "first"),
      1,
    );
    const running = c.executor.submit(() => {
      reportProgress("started");
      return new Promise(() => {});
    });
    const queued = c.executor.submit(() => 2);
    await firstProgress(running, "the task's start");
    const stopped = performance.now();
    await c.redis.stop();
    for (const future of [running, queued]) {
      const error = await deadline(future.exception(), WAIT_MS, "failure");
      assert.ok(error instanceof BrokenExecutorError, String(error));
      assert.match(error.message, /unreachable for 1000 ms/);
    }
    const took = performance.now() - stopped;
    assert.ok(took < CONNECT_TIMEOUT + 2000, `failed after ${took} ms`);
    // A submit while Redis is still down fails within the same bound.
    const down = performance.now();
    const late = c.executor.submit(() => 3);
    assert.ok(
      await deadline(late.exception(), WAIT_MS, "late") instanceof
        BrokenExecutorError,
    );
    assert.ok(performance.now() - down < CONNECT_TIMEOUT + 2000);
    await c.redis.restart();
    // The node reconnects and makes the group again; so does the executor.
    assert.equal(
      await deadline(
        c.executor.submit((x: number) => x + 1, 41).result(),
        WAIT_MS,
        "after restart",
      ),
      42,
    );
  },
});

Deno.test({
  name:
    "RedisExecutor: tasks lost with a Redis restarted empty fail with BrokenExecutorError",
  ignore,
  async fn() {
    // connectTimeout longer than the outage: only the lost data tells.
    await using c = await cluster([{ maxWorkers: 1 }], {
      connectTimeout: 20_000,
    });
    const running = c.executor.submit(() => {
      reportProgress("started");
      return new Promise(() => {});
    });
    await firstProgress(running, "the task's start");
    await c.redis.restart();
    const error = await deadline(running.exception(), WAIT_MS, "failure");
    assert.ok(error instanceof BrokenExecutorError, String(error));
    assert.match(error.message, /came back without its data/);
    assert.equal(
      await deadline(c.executor.submit(() => 5).result(), WAIT_MS, "after"),
      5,
    );
  },
});

Deno.test({
  name:
    "RedisExecutor: CLIENT KILL of its connections: it reconnects and its futures settle",
  ignore,
  async fn() {
    await using c = await cluster([{ maxWorkers: 1 }]);
    assert.equal(
      await deadline(c.executor.submit(() => 0).result(), WAIT_MS, "warm-up"),
      0,
    );
    const running = c.executor.submit(async () => {
      reportProgress("started");
      await new Promise((resolve) => setTimeout(resolve, 500));
      return "slow";
    });
    const queued = c.executor.submit(() => "queued");
    await firstProgress(running, "the task's start");
    await using raw = await rawClient(c.redis.url);
    const list = await raw.command(["CLIENT", "LIST"]) as string;
    const ids = list.split("\n")
      .filter((line) => line.includes(`name=concurrent-futures:executor:`))
      .map((line) => line.match(/^id=(\d+)/)![1]);
    assert.ok(ids.length >= 2, list);
    for (const id of ids) await raw.command(["CLIENT", "KILL", "ID", id]);
    assert.equal(await deadline(running.result(), WAIT_MS, "running"), "slow");
    assert.equal(await deadline(queued.result(), WAIT_MS, "queued"), "queued");
    assert.equal(
      await deadline(c.executor.submit(() => 9).result(), WAIT_MS, "after"),
      9,
    );
  },
});
