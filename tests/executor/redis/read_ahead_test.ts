// A node's read-ahead policy (executor/redis/_node/read_ahead.ts), checked
// alone: how many tasks a node takes beyond its free workers, and when it
// reads ahead without waiting.
import assert from "node:assert/strict";
import { ReadAhead } from "../../../executor/redis/_node/read_ahead.ts";
import type { TaskRecord } from "../../../executor/redis/_wire/records.ts";

const WORKERS = 2;
const quick = { taskId: 1 } as TaskRecord;
const slow = { taskId: 2 } as TaskRecord;
// Mean ms a call took in the pool's workers: quick 1 µs, slow 50 ms.
const auto = () =>
  new ReadAhead("auto", (record) => record === quick ? 0.001 : 50);

Deno.test("ReadAhead auto: an idle node reads only for its free workers; one running quick tasks reads ahead", () => {
  const policy = auto();
  assert.equal(policy.ahead(0, WORKERS), 0);
  assert.equal(policy.eager(0), false);
  assert.equal(policy.taken(quick), true);
  assert.equal(policy.ahead(1, WORKERS), 64);
  // Holding a task of a slow function: nothing ahead.
  assert.equal(policy.taken(slow), false);
  assert.equal(policy.ahead(2, WORKERS), 0);
  policy.done(false);
  assert.equal(policy.ahead(1, WORKERS), 64);
});

Deno.test("ReadAhead auto: a node that ran out after a read ahead that got all it asked reads ahead again, without waiting", () => {
  const policy = auto();
  policy.taken(quick);
  // A read ahead (66 asked, 2 for free workers) got all 66: a burst streams.
  policy.read(66, 2, 66);
  assert.equal(policy.eager(0), true);
  assert.equal(policy.ahead(0, WORKERS, true), 64);
  // Only for a read that does not wait: a waiting one takes what it starts.
  assert.equal(policy.ahead(0, WORKERS), 0);
  // Not while it holds a task.
  assert.equal(policy.eager(1), false);
  // The eager read found fewer than it asked: the burst is over.
  policy.read(66, 2, 3);
  assert.equal(policy.eager(0), false);
  // A read for the free workers alone that got them all is no burst: long
  // tasks of a function known quick, submitted together, still spread.
  policy.read(2, 2, 2);
  assert.equal(policy.eager(0), false);
  // Holding a slow task: never eager.
  policy.read(66, 2, 66);
  policy.taken(slow);
  assert.equal(policy.eager(0), false);
});

Deno.test("ReadAhead with a number takes that many ahead, always, and never reads eagerly", () => {
  const policy = new ReadAhead(16, () => undefined);
  assert.equal(policy.ahead(0, WORKERS), 16);
  assert.equal(policy.taken(slow), true);
  policy.read(18, 2, 18);
  assert.equal(policy.eager(0), false);
});
