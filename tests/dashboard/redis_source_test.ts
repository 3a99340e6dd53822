// A Redis queue's dashboard (executor/redis/_dashboard/) without a browser:
// serveDashboard(redisExecutor) over a real redis-server and two node
// programs; /api/snapshot and /metrics read back and compared with the
// executor's stats(), and the events the nodes wrote to <queue>:events.
import assert from "node:assert/strict";
import { serveDashboard } from "@concurrent/futures";
import { RedisExecutor } from "@concurrent/futures/redis";
import { deadline } from "../_deadline.ts";
import { requireRedis, startRedis } from "../executor/redis/_redis_server.ts";
import { startNode } from "../executor/redis/_nodes.ts";
import { rawClient, until, WAIT_MS } from "../executor/redis/_cluster.ts";
import { parse, value } from "./_prometheus.ts";

const ignore = !requireRedis();

function square(x: number): number {
  return x * x;
}

function explode(code: number): never {
  throw new TypeError(`kaboom ${code}`);
}

// deno-lint-ignore no-explicit-any
async function get(url: string, path: string): Promise<any> {
  const response = await fetch(new URL(path, url), {
    headers: { authorization: "Bearer s3cret" },
  });
  assert.equal(response.status, 200);
  return path === "/metrics" ? await response.text() : await response.json();
}

Deno.test({
  name:
    "serveDashboard(RedisExecutor) serves the queue's nodes, tasks, failures and figures from Redis, /metrics per node",
  ignore,
  async fn() {
    await using redis = await startRedis();
    const queue = `q-${crypto.randomUUID().slice(0, 8)}`;
    await using a = await startNode(redis.url, queue, { maxWorkers: 2 });
    await using b = await startNode(redis.url, queue, { maxWorkers: 3 });
    await using executor = new RedisExecutor({ url: redis.url, queue });
    await using board = serveDashboard(executor, { token: "s3cret" });

    const results = await deadline(
      Promise.allSettled([
        ...[1, 2, 3, 4, 5, 6].map((n) => executor.submit(square, n).result()),
        executor.submit(explode, 42).result(),
      ]),
      WAIT_MS,
      "the tasks",
    );
    assert.equal(results.filter((r) => r.status === "fulfilled").length, 6);
    const stats = executor.stats();
    assert.equal(stats.completed, 6);
    assert.equal(stats.failed, 1);

    // The events are in the same write as the replies, the nodes' counts
    // in their next announcement (within a second).
    // deno-lint-ignore no-explicit-any
    let snapshot: any;
    await until(async () => {
      snapshot = await get(board.url, "/api/snapshot");
      return snapshot.stats.completed === 6 &&
        snapshot.stats.failed === 1 && snapshot.stats.workers === 5 &&
        snapshot.workers.reduce(
            (sum: number, w: { completed: number }) => sum + w.completed,
            0,
          ) === 6;
    }, "the snapshot's figures");
    assert.equal(snapshot.title, `Redis queue ${queue}`);
    for (const key of ["completed", "failed", "cancelled", "queued"] as const) {
      assert.equal(snapshot.stats[key], stats[key], key);
    }
    assert.equal(snapshot.stats.running, 0);
    assert.equal(snapshot.stats.runTime.count, 7);

    // Workers: each node with its workers and labels.
    const rows = new Map(
      snapshot.workers.map((w: { id: string }) => [w.id, w]),
    );
    assert.deepEqual([...rows.keys()].sort(), [a.id, b.id].sort());
    assert.equal((rows.get(a.id) as { workers: number }).workers, 2);
    assert.equal((rows.get(b.id) as { workers: number }).workers, 3);
    assert.deepEqual((rows.get(a.id) as { labels: string[] }).labels, []);

    // Task stream: a finished bar per task, on a lane of its node.
    const tasks = snapshot.tasks as {
      fn: string;
      node: string;
      worker: string;
      start: number;
      end: number;
      outcome: string;
    }[];
    assert.equal(tasks.length, 7);
    assert.equal(
      tasks.filter((t) => t.fn === "square" && t.outcome === "completed")
        .length,
      6,
    );
    for (const task of tasks) {
      assert.ok([a.id, b.id].includes(task.node));
      assert.match(task.worker, new RegExp(`^${task.node}#\\d+$`));
      assert.ok(task.end >= task.start);
    }

    // Progress per function, and the failure with its node and stack.
    const explodeRow = snapshot.functions.find((f: { name: string }) =>
      f.name === "explode"
    );
    assert.deepEqual(
      { total: explodeRow.total, failed: explodeRow.failed },
      { total: 1, failed: 1 },
    );
    assert.equal(snapshot.failures.length, 1);
    const [failure] = snapshot.failures;
    assert.equal(failure.name, "TypeError");
    assert.equal(failure.message, "kaboom 42");
    assert.ok([a.id, b.id].includes(failure.node));
    assert.match(failure.stack, /explode/);

    // /metrics: the totals, and each node's series with its label.
    const metrics = parse(await get(board.url, "/metrics"));
    const tasksTotal = "concurrent_futures_tasks_total";
    assert.equal(value(metrics, tasksTotal, { outcome: "completed" }), 6);
    assert.equal(value(metrics, tasksTotal, { outcome: "failed" }), 1);
    assert.equal(value(metrics, "concurrent_futures_workers"), 5);
    assert.equal(
      value(metrics, "concurrent_futures_workers", { node: a.id }),
      2,
    );
    assert.equal(
      value(metrics, "concurrent_futures_workers", { node: b.id }),
      3,
    );
    let completed = 0;
    let runs = 0;
    for (const node of [a.id, b.id]) {
      completed += value(metrics, tasksTotal, {
        node,
        outcome: "completed",
      });
      runs += value(metrics, "concurrent_futures_task_run_seconds_count", {
        node,
      });
      assert.equal(
        value(metrics, "concurrent_futures_task_run_seconds_bucket", {
          node,
          le: "+Inf",
        }),
        value(metrics, "concurrent_futures_task_run_seconds_count", { node }),
      );
    }
    assert.equal(completed, 6);
    assert.equal(runs, 7);
    assert.equal(
      value(metrics, "concurrent_futures_task_run_seconds_count"),
      7,
    );

    // What the nodes wrote: one capped stream of JSON events.
    await using raw = await rawClient(redis.url);
    assert.ok(Number(await raw.command(["XLEN", `${queue}:events`])) >= 1);
  },
});

Deno.test({
  name:
    "RedisNode with history 0 writes no events: the dashboard shows its nodes but no history",
  ignore,
  async fn() {
    await using redis = await startRedis();
    const queue = `q-${crypto.randomUUID().slice(0, 8)}`;
    await using node = await startNode(redis.url, queue, {
      args: ["--history", "0"],
    });
    await using executor = new RedisExecutor({ url: redis.url, queue });
    await using board = serveDashboard(executor);
    assert.equal(
      await deadline(executor.submit(square, 3).result(), WAIT_MS, "task"),
      9,
    );
    await until(async () => {
      const snapshot = await fetch(new URL("/api/snapshot", board.url))
        .then((response) => response.json());
      return snapshot.workers.length === 1 &&
        snapshot.workers[0].id === node.id &&
        snapshot.workers[0].completed === 1;
    }, "the node's row");
    const snapshot = await fetch(new URL("/api/snapshot", board.url))
      .then((response) => response.json());
    assert.equal(snapshot.tasks.length, 0);
    assert.equal(snapshot.stats.completed, 0);
    await using raw = await rawClient(redis.url);
    assert.equal(await raw.command(["EXISTS", `${queue}:events`]), 0);
  },
});
