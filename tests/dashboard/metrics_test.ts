// /metrics (dashboard/_metrics.ts): read back as Prometheus's text format,
// line by line, and compared with the executor's stats().
import assert from "node:assert/strict";
import {
  type ExecutorStats,
  ProcessPoolExecutor,
  serveDashboard,
  ThreadPoolExecutor,
} from "@concurrent/futures";
import { deadline } from "../_deadline.ts";
import { formatMetrics } from "../../dashboard/_metrics.ts";
import { type Exposition, familyOf, parse, value } from "./_prometheus.ts";

const WAIT_MS = 20_000;

async function scrape(url: string): Promise<Exposition> {
  const response = await fetch(new URL("/metrics", url));
  assert.equal(response.status, 200);
  assert.equal(
    response.headers.get("content-type"),
    "text/plain; version=0.0.4; charset=utf-8",
  );
  return parse(await response.text());
}

const P = "concurrent_futures_";

function assertAgrees(exposition: Exposition, stats: ExecutorStats): void {
  const total = (outcome: string) =>
    value(exposition, `${P}tasks_total`, { outcome });
  assert.equal(total("completed"), stats.completed);
  assert.equal(total("failed"), stats.failed);
  assert.equal(total("cancelled"), stats.cancelled);
  assert.equal(value(exposition, `${P}tasks_queued`), stats.queued);
  assert.equal(value(exposition, `${P}tasks_running`), stats.running);
  assert.equal(value(exposition, `${P}workers`), stats.workers);
  assert.equal(value(exposition, `${P}workers_busy`), stats.busy);
  assert.equal(value(exposition, `${P}task_retries_total`), stats.retried);
  const runs = `${P}task_run_seconds`;
  assert.equal(exposition.type.get(runs), "histogram");
  assert.equal(value(exposition, `${runs}_count`), stats.runTime.count);
  assert.ok(
    Math.abs(
      value(exposition, `${runs}_sum`) -
        stats.runTime.mean * stats.runTime.count / 1000,
    ) < 1e-9,
  );
  const buckets = exposition.samples.filter((s) => s.name === `${runs}_bucket`);
  const bounds = buckets.map((b) =>
    Number(b.labels.le.replace("+Inf", "Infinity"))
  );
  assert.deepEqual(bounds, [...bounds].sort((a, b) => a - b));
  assert.equal(bounds.at(-1), Infinity);
  for (let i = 1; i < buckets.length; i++) {
    assert.ok(buckets[i].value >= buckets[i - 1].value, "buckets cumulative");
  }
  assert.equal(buckets.at(-1)!.value, stats.runTime.count);
  // The bucket holding the slowest run counts them all.
  const slowest = stats.runTime.max / 1000;
  const cover = buckets.find((_, i) => bounds[i] >= slowest * 1.04)!;
  assert.equal(cover.value, stats.runTime.count);
}

for (const Pool of [ThreadPoolExecutor, ProcessPoolExecutor]) {
  Deno.test(`serveDashboard() /metrics of a ${Pool.name} is Prometheus text whose figures are stats()'s, counters only rising`, async () => {
    await using pool = new Pool({ maxWorkers: 1, idleTimeout: 60_000 });
    await using board = serveDashboard(pool);
    const first = await scrape(board.url);
    assertAgrees(first, pool.stats());
    for (
      const name of [
        "tasks_total",
        "tasks_queued",
        "tasks_running",
        "workers",
        "task_run_seconds",
      ]
    ) {
      assert.ok(first.help.has(P + name), `HELP of ${name}`);
    }
    assert.equal(first.type.get(`${P}tasks_total`), "counter");
    assert.equal(first.type.get(`${P}tasks_queued`), "gauge");
    assert.equal(first.type.get(`${P}tasks_running`), "gauge");
    assert.equal(first.type.get(`${P}workers`), "gauge");

    // Completed, failed, and (behind a busy worker) cancelled.
    const blocker = pool.submit((ms: number) => {
      const end = Date.now() + ms;
      while (Date.now() < end) { /* busy */ }
      return ms;
    }, 50);
    const cancelled = pool.submit((x: number) => x, 1);
    assert.ok(cancelled.cancel());
    const ok = [1, 2, 3].map((n) => pool.submit((x: number) => x + 1, n));
    const failing = pool.submit(() => {
      throw new Error("no");
    });
    await deadline(
      Promise.allSettled([blocker, ...ok, failing].map((f) => f.result())),
      WAIT_MS,
      "the tasks",
    );

    const second = await scrape(board.url);
    const stats = pool.stats();
    assertAgrees(second, stats);
    assert.equal(stats.completed, 4);
    assert.equal(stats.failed, 1);
    assert.equal(stats.cancelled, 1);
    for (const s of first.samples) {
      const family = familyOf(s.name, first.type);
      if (
        first.type.get(family) !== "counter" && !s.name.endsWith("_count") &&
        !s.name.endsWith("_bucket")
      ) continue;
      const later = second.samples.find((t) =>
        t.name === s.name &&
        JSON.stringify(t.labels) === JSON.stringify(s.labels)
      );
      assert.ok(later !== undefined, `${s.name} in the second scrape`);
      assert.ok(later.value >= s.value, `${s.name} went down`);
    }
  });
}

Deno.test("formatMetrics() labels each series (a Redis node's) and escapes label values", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const stats = pool.stats();
  const node = 'rack "a"\\1\nb';
  const exposition = parse(formatMetrics([{ stats }, {
    labels: { node },
    stats: { ...stats, completed: 7 },
  }]));
  assert.equal(
    value(exposition, `${P}tasks_total`, { outcome: "completed" }),
    0,
  );
  assert.equal(
    value(exposition, `${P}tasks_total`, { outcome: "completed", node }),
    7,
  );
  assert.equal(value(exposition, `${P}workers`, { node }), 0);
});
