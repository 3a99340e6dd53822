// The message protocol is private (executor/_wire/protocol.ts): it runs over a
// port the pool gives each worker, so what a task posts on its own cannot
// settle, fail or forge any future.
import assert from "node:assert/strict";
import { ThreadPoolExecutor } from "../../mod.ts";
import { PROTOCOL as P } from "../../executor/_wire/protocol.ts";
import { deadline } from "../_deadline.ts";
import { countWorkers } from "./_worker_count.ts";

const WAIT = 10_000;

// The worker's globals, as tasks see them (types only: tasks run in a worker).
declare const postMessage: (message: unknown) => void;
type WorkerSelf = { postMessage(message: unknown): void };

// Posts every message shape the pool reads, for task ids 1 to `ids`, on the
// worker's own channel (both spellings), then returns its own value. The
// messages are built from the protocol's own constants and field offsets,
// so they are exactly what the pool would act on if it read this channel.
async function forge(p: typeof P, ids: number): Promise<string> {
  const post = (message: unknown) => {
    (self as unknown as WorkerSelf).postMessage(message);
    postMessage(message);
  };
  const result = (id: number, status: unknown, value: unknown) => {
    const record: unknown[] = [];
    record[p.RESULT.ID] = id;
    record[p.RESULT.STATUS] = status;
    record[p.RESULT.VALUE] = value;
    record[p.RESULT.MS] = 0;
    return [p.RESULTS, ...record];
  };
  for (let id = 1; id <= ids; id++) {
    post(result(id, p.OK, "forged"));
    post(result(id, p.ERROR, { error: false, value: "forged" }));
    post(result(id, { status: p.OK }, "forged"));
  }
  post([p.INIT_FAILED, { error: false, value: "forged" }]);
  post([p.READY]);
  post({ forged: true });
  for (let id = 1; id <= ids; id++) post([p.FATAL, id, "forged death"]);
  // Give the pool time to (wrongly) act on them before this task returns.
  await new Promise((resolve) => setTimeout(resolve, 100));
  return "own";
}

Deno.test("ThreadPoolExecutor ignores a task's stray postMessage that looks like a protocol message", async () => {
  using workers = countWorkers();
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  // The pool sends a known-quick function ahead to a busy worker: warm one
  // up, so the second task waits in the worker while the first forges.
  const quick = (x: number) => x * 2;
  const warm = pool.map(quick, Array.from({ length: 200 }, (_, i) => i));
  for await (const _ of warm) {
    // drain
  }
  const first = pool.submit(forge, P, 400);
  const second = pool.submit(quick, 21);
  await null;
  assert.ok(second.running(), "precondition: both tasks are in the worker");
  assert.equal(await deadline(first.result(), WAIT, "first task"), "own");
  assert.equal(await deadline(second.result(), WAIT, "second task"), 42);
  assert.equal(workers.started, 1, "no worker was retired");
  // The pool is not broken: a task still runs, and none failed.
  assert.equal(await deadline(pool.submit(() => 3).result(), WAIT, "next"), 3);
  assert.equal(pool.stats().failed, 0);
});
