// TaskHistory (dashboard/_history.ts): what a dashboard remembers of a
// pool's tasks stays bounded however many run.
import assert from "node:assert/strict";
import { Future } from "@concurrent/futures";
import { TaskHistory, WINDOW_MS } from "../../dashboard/_history.ts";

Deno.test("TaskHistory keeps the last 2000 finished tasks and 50 failures, however many run", () => {
  const history = new TaskHistory();
  const at = performance.now();
  for (let id = 1; id <= 10_000; id++) {
    const future = new Future<unknown>();
    history.submitted(future, id, id % 2 ? "odd" : "even");
    history.started(future, `w-${id % 3}`, at);
    if (id % 10 === 0) {
      history.settled(future, "failed", at + 1, 1, new RangeError(`#${id}`));
    } else history.settled(future, "completed", at + 1, 1);
  }
  const now = Date.now();
  const tasks = history.tasks(now);
  assert.equal(tasks.length, 2000);
  assert.equal(tasks.at(-1)!.id, "10000");
  const failures = history.failures();
  assert.equal(failures.length, 50);
  assert.equal(failures[0].message, "#10000");
  assert.equal(failures[0].name, "RangeError");
  assert.match(failures[0].stack!, /RangeError: #10000/);
  assert.deepEqual(history.functions().map((f) => [f.name, f.total]), [
    ["odd", 5000],
    ["even", 5000],
  ]);
  assert.equal(history.functions()[1].failed, 1000);
  assert.deepEqual(history.workerCounts("w-1"), {
    completed: 3000,
    failed: 334,
  });
  // Past the window, only running tasks are left.
  assert.equal(history.tasks(now + WINDOW_MS + 1000).length, 0);
  history.forgetWorkersBut(new Set(["w-1"]));
  assert.deepEqual(history.workerCounts("w-2"), { completed: 0, failed: 0 });
});

Deno.test("TaskHistory counts a task queued, running, then settled; a cancelled one never reaches the stream", () => {
  const history = new TaskHistory();
  const [a, b] = [new Future<unknown>(), new Future<unknown>()];
  history.submitted(a, 1, "f");
  history.submitted(b, 2, "f");
  assert.deepEqual(
    { ...history.functions()[0] },
    {
      name: "f",
      total: 2,
      queued: 2,
      running: 0,
      completed: 0,
      failed: 0,
      cancelled: 0,
    },
  );
  history.started(a, "w-1", 1);
  history.progress(a, 0.5);
  history.settled(b, "cancelled", 2);
  const running = history.tasks(Date.now());
  assert.equal(running.length, 1);
  assert.equal(running[0].outcome, "running");
  assert.equal(running[0].progress, 0.5);
  assert.equal(history.functions()[0].running, 1);
  assert.equal(history.functions()[0].cancelled, 1);
  assert.equal(history.functions()[0].queued, 0);
  // A worker measured 2 ms of a task the pool started 10 ms before its end.
  history.settled(a, "completed", 11, 2);
  const [done] = history.tasks(Date.now());
  assert.equal(done.end! - done.start, 2);
  // A future it never heard of (submitted before it listened) is ignored.
  history.settled(new Future<unknown>(), "failed", 3, 1, new Error("x"));
  assert.equal(history.failures().length, 0);
});
