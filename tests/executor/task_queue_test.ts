// The pool's queue (executor/_pool/task_queue.ts): the common task waits as
// its parts and its submit time is written once for the tasks of a turn;
// order, times, requeue, cancel's view and a bounded array are checked
// through the queue alone.
import assert from "node:assert/strict";
import { Future } from "../../mod.ts";
import { TaskQueue } from "../../executor/_pool/task_queue.ts";
import { WorkItem } from "../../executor/_pool/work_item.ts";
import { PoolStats } from "../../executor/_pool/pool_stats.ts";
import type { FunctionSpec } from "../../executor/_wire/protocol.ts";

const fn: FunctionSpec = { id: 1, source: "(x) => x" };
const stats = new PoolStats();

function makeQueue(): { queue: TaskQueue; made: [unknown, number][] } {
  const made: [unknown, number][] = [];
  let id = 0;
  const queue = new TaskQueue((future, fn, arg, time) => {
    made.push([arg, time]);
    return WorkItem.ofOne(++id, future, fn, arg, stats, time);
  });
  return { queue, made };
}

const item = (arg: unknown, time: number) =>
  new WorkItem(100, new Future(), fn, [arg], 0, undefined, stats, time);

Deno.test("TaskQueue gives tasks oldest first, each with its own turn's submit time", () => {
  const { queue, made } = makeQueue();
  queue.add(new Future(), fn, "a", 10);
  queue.add(new Future(), fn, "b", 10);
  queue.push(item("c", 11));
  queue.add(new Future(), fn, "d", 10);
  queue.add(new Future(), fn, "e", 12);
  queue.add(new Future(), fn, "f", 12);
  assert.equal(queue.size, 6);
  const args: unknown[] = [];
  for (let it = queue.shift(); it !== undefined; it = queue.shift()) {
    args.push(it.args[0]);
  }
  assert.deepEqual(args, ["a", "b", "c", "d", "e", "f"]);
  // "d" came after a task with its own time, and still has its turn's.
  assert.deepEqual(made, [["a", 10], ["b", 10], ["d", 10], ["e", 12], [
    "f",
    12,
  ]]);
  assert.equal(queue.size, 0);
  assert.equal(queue.peek(), undefined);
});

Deno.test("TaskQueue puts requeued tasks first, and lists every waiting future", () => {
  const { queue } = makeQueue();
  const futures = [new Future(), new Future(), new Future()];
  queue.add(futures[0], fn, 0, 1);
  queue.add(futures[1], fn, 1, 2);
  queue.add(futures[2], fn, 2, 2);
  assert.ok(queue.shift()!.future === futures[0]);
  const back = [item("x", 0), item("y", 0)];
  queue.requeue(back);
  // Futures compare by identity: deepEqual sees any two as equal.
  const expected = [back[0].future, back[1].future, futures[1], futures[2]];
  const listed = [...queue.futures()];
  assert.equal(listed.length, 4);
  listed.forEach((future, i) => assert.ok(future === expected[i], `#${i}`));
  assert.equal(queue.size, 4);
  const drained = queue.drain();
  assert.equal(drained.length, 4);
  drained.forEach((it, i) => assert.ok(it.future === expected[i], `#${i}`));
  assert.equal(queue.size, 0);
});

Deno.test("TaskQueue that never empties keeps a bounded array", () => {
  const { queue } = makeQueue();
  for (let i = 0; i < 10; i++) queue.add(new Future(), fn, i, i);
  for (let i = 10; i < 100_000; i++) {
    queue.add(new Future(), fn, i, i);
    assert.equal(queue.shift()!.args[0], i - 10);
  }
  assert.equal(queue.size, 10);
  assert.ok(queue.slots < 20_000, `${queue.slots} slots for 10 tasks`);
});
