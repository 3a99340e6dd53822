// The scheduler (executor/_pool/pool.ts) driven through a fake spawner: the
// test plays every worker, so each scheduling rule is checked exactly, with
// no real thread or process.
import assert from "node:assert/strict";
import { BrokenExecutorError, Future, TimeoutError } from "../../mod.ts";
import { Pool, type PoolOptions } from "../../executor/_pool/pool.ts";
import type { WorkerEvents } from "../../executor/_pool/transport.ts";
import {
  type FunctionSpec,
  PROTOCOL as P,
  RESULT,
  TASK,
} from "../../executor/_wire/protocol.ts";
import { deadline } from "../_deadline.ts";

// A worker the test plays: it records what it was sent and answers when
// told to.
class FakeWorker {
  readonly name: string;
  readonly events: WorkerEvents;
  // Task ids received, in order, and the function spec of each.
  readonly received: number[] = [];
  readonly specs: (number | FunctionSpec)[] = [];
  // How many tasks each RUN message carried.
  readonly batches: number[] = [];
  stopped = false;
  // Resolves when the pool terminates it.
  readonly whenStopped = Promise.withResolvers<void>();

  constructor(name: string, events: WorkerEvents) {
    this.name = name;
    this.events = events;
  }

  receive(message: unknown[]): void {
    this.batches.push((message.length - 1) / TASK.SIZE);
    for (let i = 1; i < message.length; i += TASK.SIZE) {
      this.received.push(message[i + TASK.ID] as number);
      this.specs.push(message[i + TASK.FN] as number | FunctionSpec);
    }
  }

  ready(): void {
    this.events.message([P.READY]);
  }

  // Sends results for `ids` (value: id * 10) in one RESULTS message.
  answer(ids: number[], ms = 0.001): void {
    const message: unknown[] = [P.RESULTS];
    for (const id of ids) {
      const record: unknown[] = [];
      record[RESULT.ID] = id;
      record[RESULT.STATUS] = P.OK;
      record[RESULT.VALUE] = id * 10;
      record[RESULT.MS] = ms;
      message.push(...record);
    }
    this.events.message(message as [typeof P.RESULTS]);
  }

  // Answers everything received and not answered yet.
  answerAll(answered: Set<number>, ms = 0.001): void {
    const ids = this.received.filter((id) => !answered.has(id));
    ids.forEach((id) => answered.add(id));
    this.answer(ids, ms);
  }
}

function fakePool(options: Partial<PoolOptions> = {}) {
  const workers: FakeWorker[] = [];
  const pool = new Pool({
    maxWorkers: 2,
    maxTasksPerWorker: Infinity,
    idleTimeout: Infinity,
    name: "fake",
    spawn: ({ name }, events) => {
      const worker = new FakeWorker(name, events);
      workers.push(worker);
      return {
        send: (message) => worker.receive(message),
        terminate: () => {
          worker.stopped = true;
          worker.whenStopped.resolve();
        },
      };
    },
    ...options,
  });
  return { pool, workers };
}

const quick: FunctionSpec = { id: 1, source: "(x) => x" };
const other: FunctionSpec = { id: 2, source: "(x) => x + 1" };

function submit(
  pool: Pool,
  fn = quick,
  options?: { timeout?: number; signal?: AbortSignal },
): Future<unknown> {
  const future = new Future<unknown>();
  pool.submit(future, fn, [], 0, options);
  return future;
}

// The pool dispatches in a microtask.
const tick = () => new Promise<void>((resolve) => queueMicrotask(resolve));

Deno.test("Pool starts workers lazily: one per waiting task, up to maxWorkers", async () => {
  const { pool, workers } = fakePool({ maxWorkers: 2 });
  submit(pool);
  await tick();
  assert.equal(workers.length, 1);
  submit(pool);
  submit(pool);
  await tick();
  assert.equal(workers.length, 2, "never more than maxWorkers");
  assert.deepEqual(workers.map((w) => w.received), [[1], [2]]);
  pool.terminate("done");
});

Deno.test("Pool reuses an idle worker before it starts a new one", async () => {
  const { pool, workers } = fakePool({ maxWorkers: 2 });
  const first = submit(pool);
  await tick();
  workers[0].ready();
  workers[0].answer([1]);
  assert.equal(await first.result(), 10);
  submit(pool);
  await tick();
  assert.equal(workers.length, 1, "the idle worker took it");
  assert.deepEqual(workers[0].received, [1, 2]);
  pool.terminate("done");
});

Deno.test("Pool sends a function's spec once per worker, then its id", async () => {
  const { pool, workers } = fakePool({ maxWorkers: 1 });
  submit(pool);
  await tick();
  workers[0].answer([1], 10);
  submit(pool);
  await tick();
  assert.equal(typeof workers[0].specs[0], "object");
  assert.equal(workers[0].specs[1], quick.id);
  pool.terminate("done");
});

Deno.test("Pool sends tasks ahead to a busy worker only for a function known to be quick", async () => {
  const { pool, workers } = fakePool({ maxWorkers: 1 });
  // Learn both functions: `quick` takes 1 µs a call, `other` 10 ms.
  submit(pool, quick);
  await tick();
  const worker = workers[0];
  worker.answer([1], 0.001);
  submit(pool, other);
  await tick();
  worker.answer([2], 10);
  // Busy with a slow task, the worker is sent no other slow one ahead.
  for (let i = 0; i < 3; i++) submit(pool, other);
  await tick();
  assert.deepEqual(worker.received, [1, 2, 3], "slow: none sent ahead");
  // Busy with a slow task, it is sent quick ones ahead, in one message
  // (the queue stays in order: they wait behind the slow 4 and 5).
  for (let i = 0; i < 100; i++) submit(pool, quick);
  worker.answer([3], 10);
  await tick();
  worker.answer([4], 10);
  await tick();
  assert.deepEqual(worker.batches, [1, 1, 1, 1, 1, 100]);
  assert.equal(worker.received.length, 105);
  pool.terminate("done");
});

Deno.test("Pool sends a task with a timeout alone and starts its clock at READY", async () => {
  const { pool, workers } = fakePool({ maxWorkers: 1 });
  const timed = submit(pool, quick, { timeout: 20 });
  submit(pool, quick);
  await tick();
  assert.deepEqual(workers[0].received, [1], "alone");
  // A worker still starting (no READY) has not started the task.
  await new Promise((resolve) => setTimeout(resolve, 60));
  assert.equal(timed.done(), false, "no clock before READY");
  workers[0].ready();
  await assert.rejects(deadline(timed.result(), 1000, "timeout"), TimeoutError);
  assert.ok(workers[0].stopped, "its worker was stopped");
  await tick();
  assert.deepEqual(workers[1].received, [2], "the next task got a new worker");
  pool.terminate("done");
});

Deno.test("Pool fails the task a worker names in FATAL, delivers those before it and requeues those after it", async () => {
  const { pool, workers } = fakePool({ maxWorkers: 1 });
  submit(pool);
  await tick();
  workers[0].answer([1], 0.001);
  const futures = [2, 3, 4, 5].map(() => submit(pool));
  await tick();
  assert.deepEqual(workers[0].received, [1, 2, 3, 4, 5]);
  // A salvaged batch skips the culprit (3), whose FATAL follows.
  workers[0].answer([2, 4]);
  workers[0].events.message([P.FATAL, 3, "the task called Deno.exit(1)"]);
  assert.equal(await futures[0].result(), 20);
  assert.equal(await futures[2].result(), 40);
  await assert.rejects(
    futures[1].result(),
    (e) => e instanceof BrokenExecutorError && /died under/.test(e.message),
  );
  await tick();
  assert.deepEqual(workers[1].received, [5], "5 had not started: requeued");
  workers[1].answer([5]);
  assert.equal(await futures[3].result(), 50);
  pool.terminate("done");
});

Deno.test("Pool fails, never reruns, a task that ran but whose result was lost with its worker", async () => {
  const { pool, workers } = fakePool({ maxWorkers: 1 });
  submit(pool);
  await tick();
  workers[0].answer([1], 0.001);
  const [lost, culprit] = [submit(pool), submit(pool)];
  await tick();
  workers[0].events.message([P.FATAL, 3, "boom"]);
  await assert.rejects(
    lost.result(),
    (e) =>
      e instanceof BrokenExecutorError && /result was sent/.test(e.message),
  );
  await assert.rejects(culprit.result(), BrokenExecutorError);
  await tick();
  assert.equal(workers.length, 1, "nothing to rerun");
  pool.terminate("done");
});

Deno.test("Pool blames the oldest task sent when a worker dies without a word", async () => {
  const { pool, workers } = fakePool({ maxWorkers: 1 });
  submit(pool);
  await tick();
  workers[0].answer([1], 0.001);
  const [oldest, next] = [submit(pool), submit(pool)];
  await tick();
  workers[0].events.died("the process was killed by SIGKILL");
  await assert.rejects(
    deadline(oldest.result(), 1000, "blame"),
    (e) => e instanceof BrokenExecutorError && /SIGKILL/.test(e.message),
  );
  await tick();
  workers[1].answer([3]);
  assert.equal(await next.result(), 30);
  pool.terminate("done");
});

Deno.test("Pool replaces a worker after maxTasksPerWorker tasks", async () => {
  const { pool, workers } = fakePool({ maxWorkers: 1, maxTasksPerWorker: 2 });
  const futures = [1, 2, 3].map(() => submit(pool));
  await tick();
  workers[0].answer([1], 10);
  workers[0].answer([2], 10);
  await tick();
  assert.ok(workers[0].stopped);
  assert.deepEqual(workers[1].received, [3]);
  workers[1].answer([3]);
  assert.deepEqual(
    await Promise.all(futures.map((f) => f.result())),
    [10, 20, 30],
  );
  pool.terminate("done");
});

Deno.test("Pool is broken when no worker can start: every task fails", async () => {
  const pool = new Pool({
    maxWorkers: 1,
    maxTasksPerWorker: Infinity,
    idleTimeout: Infinity,
    name: "fake",
    spawn: () => {
      throw new Deno.errors.NotCapable("no run permission");
    },
  });
  const future = submit(pool);
  await assert.rejects(
    deadline(future.result(), 1000, "broken"),
    (e) =>
      e instanceof BrokenExecutorError &&
      e.cause instanceof Deno.errors.NotCapable,
  );
  assert.ok(pool.broken instanceof BrokenExecutorError);
});

Deno.test("Pool.close() settles once every task is done and every worker stopped", async () => {
  const { pool, workers } = fakePool({ maxWorkers: 2 });
  const futures = [1, 2].map(() => submit(pool));
  await tick();
  let closed = false;
  const closing = pool.close(false).then(() => closed = true);
  await tick();
  assert.equal(closed, false, "tasks still run");
  workers[0].answer([1]);
  workers[1].answer([2]);
  await deadline(closing, 1000, "close");
  assert.ok(workers.every((w) => w.stopped));
  assert.deepEqual(await Promise.all(futures.map((f) => f.result())), [10, 20]);
});

Deno.test("Pool stops an idle worker once idleTimeout has passed, not before", async () => {
  const IDLE = 50;
  const { pool, workers } = fakePool({ maxWorkers: 1, idleTimeout: IDLE });
  submit(pool);
  await tick();
  const idleSince = performance.now();
  workers[0].answer([1]);
  assert.equal(workers[0].stopped, false);
  assert.equal(pool.stats().workers, 1);
  await deadline(workers[0].whenStopped.promise, 1000, "idle sweep");
  const idle = performance.now() - idleSince;
  assert.ok(idle >= IDLE - 1, `stopped after ${idle} ms idle`);
  assert.equal(pool.stats().workers, 0);
  await pool.close(false);
});

Deno.test("Pool sends no task ahead for a function that takes 0.5 ms a call: it may take longer on other arguments", async () => {
  const { pool, workers } = fakePool({ maxWorkers: 1 });
  submit(pool, quick);
  await tick();
  const worker = workers[0];
  worker.answer([1], 0.5);
  // Busy again with one task of the same function: the others wait.
  for (let i = 0; i < 4; i++) submit(pool, quick);
  await tick();
  assert.deepEqual(worker.batches, [1, 1]);
  pool.terminate("done");
});
