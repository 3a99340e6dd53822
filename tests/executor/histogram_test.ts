// The fixed-size histogram behind every executor's stats() summaries
// (executor/_base/histogram.ts).
import assert from "node:assert/strict";
import { Histogram } from "../../executor/_base/histogram.ts";

Deno.test("Histogram keeps percentiles within 2% and a fixed size however many values it takes", () => {
  const histogram = new Histogram();
  const before = Deno.memoryUsage().heapUsed;
  for (let i = 1; i <= 1_000_000; i++) histogram.add(i / 1000);
  const grown = Deno.memoryUsage().heapUsed - before;
  // A list of a million durations would take 8 MB at least.
  assert.ok(grown < 2 * 1024 * 1024, `heap grew ${grown} bytes`);
  const { count, mean, p50, p90, p99, max } = histogram.summary();
  assert.equal(count, 1_000_000);
  assert.ok(Math.abs(mean - 500.0005) < 1e-6);
  for (const [got, want] of [[p50, 500], [p90, 900], [p99, 990]]) {
    assert.ok(Math.abs(got - want) / want < 0.02, `${got} for ${want}`);
  }
  assert.equal(max, 1000);
});

Deno.test("Histogram of nothing summarizes to zeros; tiny and huge values land in its end buckets", () => {
  assert.deepEqual(new Histogram().summary(), {
    count: 0,
    mean: 0,
    p50: 0,
    p90: 0,
    p99: 0,
    max: 0,
  });
  const histogram = new Histogram();
  histogram.add(0);
  histogram.add(1e-9);
  histogram.add(1e12);
  const { count, max } = histogram.summary();
  assert.equal(count, 3);
  assert.equal(max, 1e12);
});

Deno.test("Histogram.countUpTo() counts exactly below bounds that are bucket edges, all at Infinity", () => {
  const histogram = new Histogram();
  for (const ms of [0.0001, 0.9, 1.1, 4.99, 5.01, 9.9, 199, 201, 799, 1e12]) {
    histogram.add(ms);
  }
  assert.deepEqual(
    histogram.countUpTo([1, 5, 10, 200, 800, 3200, Infinity]),
    [2, 4, 6, 7, 9, 9, 10],
  );
  assert.equal(histogram.count, 10);
  assert.ok(Math.abs(histogram.sum - (1e12 + 1220.9001)) < 1e-3);
});
