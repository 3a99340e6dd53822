// Task graphs (executor/_base/graph.ts, deferred.ts): a future as an
// argument is a dependency — the task waits holding nothing, then runs with
// its value; what goes wrong with a dependency reaches its dependents.
import assert from "node:assert/strict";
import {
  CancelledError,
  Future,
  type PoolExecutor,
  reportProgress,
  ThreadPoolExecutor,
} from "../../mod.ts";
import { deadline } from "../_deadline.ts";
import { executors } from "./_executors.ts";

const WAIT = 30_000;

for (const { name, make } of executors) {
  Deno.test(`${name}: a task runs with the value of a future argument; a diamond runs each task once`, async () => {
    await using pool = make({ maxWorkers: 2 });
    const a = pool.submit((x: number) => x + 1, 1);
    const b = pool.submit((x: number) => x * 10, a);
    const c = pool.submit((x: number) => x * 100, a);
    const d = pool.submit(
      (x: number, y: number, z: number) => x + y + z,
      b,
      c,
      3,
    );
    assert.equal(await deadline(d.result(), WAIT, "the diamond"), 20 + 200 + 3);
    assert.equal((pool as PoolExecutor).stats().completed, 4);
  });

  Deno.test(`${name}: a dependency's error reaches the last task of a chain, the same error; none of them runs`, async () => {
    await using pool = make({ maxWorkers: 1 });
    const root = pool.submit(() => {
      throw new RangeError("root", { cause: "why" });
    });
    const middle = pool.submit((x: unknown) => x, root);
    const last = pool.submit((x: unknown) => x, middle);
    const rootError = await deadline(root.exception(), WAIT, "root");
    const error = await deadline(last.exception(), WAIT, "last");
    assert.equal(error, rootError);
    assert.ok(error instanceof RangeError);
    assert.equal(error.message, "root");
    assert.equal(error.cause, "why");
    // The dependents never ran: only the root reached a worker.
    assert.equal((pool as PoolExecutor).stats().failed, 1);
  });
}

Deno.test("ThreadPoolExecutor: a chain of 10,000 dependent tasks completes on one worker", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const before = Deno.memoryUsage().heapUsed;
  let last: Future<number> = pool.submit(() => 0);
  for (let i = 0; i < 10_000; i++) {
    last = pool.submit((x: number) => x + 1, last);
  }
  assert.equal(await deadline(last.result(), 120_000, "the chain"), 10_000);
  assert.equal(pool.stats().completed, 10_001);
  // What was held for the chain is let go of as it runs: well under what
  // 10,000 live tasks with their closures would keep.
  const grown = Deno.memoryUsage().heapUsed - before;
  assert.ok(grown < 64 * 1024 * 1024, `heap grew ${grown} bytes`);
});

Deno.test("ThreadPoolExecutor: a cancelled dependency cancels its dependents; a task waiting on a future that never settles holds no worker", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const never = new Future<number>();
  const waiting = pool.submit((x: number) => x, never);
  // The one worker is free for other work meanwhile.
  assert.equal(
    await deadline(pool.submit(() => "free").result(), WAIT, "free"),
    "free",
  );
  assert.equal(waiting.state, "pending");
  const cancelled = new Future<number>();
  const dependent = pool.submit((x: number) => x, cancelled);
  const second = pool.submit((x: number) => x, dependent);
  cancelled.cancel();
  await assert.rejects(
    deadline(second.result(), WAIT, "second"),
    CancelledError,
  );
  assert.ok(dependent.cancelled() && second.cancelled());
  // A task waiting for ever does not keep shutdown from ending.
  await deadline(pool.shutdown({ cancelFutures: true }), WAIT, "shutdown");
  assert.ok(waiting.cancelled());
});

Deno.test("ThreadPoolExecutor: a waiting task can be cancelled, and its signal cancels it; shutdown() waits for it", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const gate = new Future<number>();
  const byCancel = pool.submit((x: number) => x, gate);
  assert.equal(byCancel.cancel(), true);
  const controller = new AbortController();
  const bySignal = pool.run((x: number) => x, [gate], {
    signal: controller.signal,
  });
  controller.abort(new Error("no longer"));
  assert.ok(bySignal.cancelled());
  const later = pool.submit((x: number) => x * 2, gate);
  const closing = pool.shutdown();
  let closed = false;
  closing.then(() => closed = true);
  // A turn later, still waiting: shutdown waits for the held task.
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(closed, false);
  gate.setResult(21);
  assert.equal(await deadline(later.result(), WAIT, "later"), 42);
  await deadline(closing, WAIT, "shutdown");
});

Deno.test("ThreadPoolExecutor: timeout counts from a waiting task's start; progress and running reach its future", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const gate = new Future<number>();
  const task = pool.run(
    async (ms: number) => {
      reportProgress("started");
      await new Promise((resolve) => setTimeout(resolve, ms));
      return ms;
    },
    [gate],
    { timeout: 5_000 },
  );
  const seen: string[] = [];
  task.addProgressCallback((value, future) =>
    seen.push(`${value} ${future.state}`)
  );
  // It waits long before it starts: the timeout has not begun.
  const started = Promise.withResolvers<void>();
  task.addProgressCallback(() => started.resolve());
  gate.setResult(50);
  await deadline(started.promise, WAIT, "start");
  assert.equal(await deadline(task.result(), WAIT, "task"), 50);
  assert.deepEqual(seen, ["started running"]);
});

Deno.test("ThreadPoolExecutor.map: items may be futures; buffersize counts waiting tasks as in flight", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 2 });
  const gates = [0, 1, 2, 3].map(() => new Future<number>());
  let pulled = 0;
  function* inputs() {
    for (const gate of gates) {
      pulled++;
      yield gate;
    }
  }
  const results = pool.map((x: number) => x * 2, inputs(), { buffersize: 2 });
  const first = results.next();
  await null;
  // Two taken, both waiting on their futures: nothing more is read.
  assert.equal(pulled, 2);
  gates[0].setResult(1);
  assert.deepEqual(await deadline(first, WAIT, "first"), {
    value: 2,
    done: false,
  });
  const rest: number[] = [];
  gates.slice(1).forEach((gate, i) => gate.setResult(i + 2));
  for await (const value of results) rest.push(value);
  assert.deepEqual(rest, [4, 6, 8]);
  assert.equal(pulled, 4);
});

Deno.test("ThreadPoolExecutor.map with chunksize runs chunks whose items are futures", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 2 });
  const futures = [1, 2, 3, 4, 5].map((i) => pool.submit((x: number) => x, i));
  const got: number[] = [];
  for await (
    const value of pool.map((x: number, y: number) => x + y, futures, [
      10,
      20,
      30,
      40,
      50,
    ], { chunksize: 2 })
  ) got.push(value);
  assert.deepEqual(got, [11, 22, 33, 44, 55]);
});

Deno.test("Executor.submit() fails a Future nested inside an argument with a DataCloneError that says to pass it at the top level", async () => {
  for (const pool of [new ThreadPoolExecutor({ maxWorkers: 1 })]) {
    await using _ = pool;
    const future = pool.submit(() => 1);
    const nested = pool.submit((x: unknown) => x, { inside: [future] });
    const error = await deadline(nested.exception(), WAIT, "nested");
    assert.ok(error instanceof DOMException, String(error));
    assert.equal(error.name, "DataCloneError");
    assert.match(error.message, /pass it as a top-level argument/);
  }
});

Deno.test("Executor.submit() takes T | Future<T> per parameter, and nothing else (types)", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const text = pool.submit(() => "four");
  const length = pool.submit((s: string) => s.length, text);
  assert.equal(await deadline(length.result(), WAIT, "length"), 4);
  const count = pool.submit(() => 4);
  // @ts-expect-error a Future<number> where a string is wanted
  const wrong = pool.submit((s: string) => s.length, count);
  await deadline(wrong.exception(), WAIT, "wrong");
  // @ts-expect-error a number where a string is wanted
  const alsoWrong = pool.run((s: string) => s.length, [4]);
  await deadline(alsoWrong.exception(), WAIT, "also wrong");
});

// Mixed executors: a future of one executor as an argument of another's.
Deno.test("A future of one pool is an argument of another's task", async () => {
  await using threads = new ThreadPoolExecutor({ maxWorkers: 1 });
  const { ProcessPoolExecutor } = await import("../../mod.ts");
  await using processes = new ProcessPoolExecutor({ maxWorkers: 1 });
  const fromThread = threads.submit(() => 20);
  const fromProcess = processes.submit((x: number) => x + 1, fromThread);
  const back: Future<number> = threads.submit(
    (x: number) => x * 2,
    fromProcess,
  );
  assert.equal(await deadline(back.result(), WAIT, "back"), 42);
});
