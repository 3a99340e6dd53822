// Progress from inside a task (reportProgress) to its future
// (addProgressCallback), in both executors: in order, all before the
// outcome, none after, coalesced, the last always delivered.
import assert from "node:assert/strict";
import { fromModule, reportProgress } from "../../mod.ts";
import { deadline } from "../_deadline.ts";
import { executors } from "./_executors.ts";

const WAIT = 15_000;
const tasks = fromModule<typeof import("./fixtures/tasks.ts")>(
  new URL("./fixtures/tasks.ts", import.meta.url),
);

for (const { name, make } of executors) {
  Deno.test(`${name}: a function task's reportProgress reaches addProgressCallback in order, all before the outcome`, async () => {
    await using pool = make({ maxWorkers: 1 });
    const future = pool.submit(async () => {
      for (let i = 1; i <= 5; i++) {
        reportProgress(i);
        // Far enough apart that none is coalesced.
        await new Promise((r) => setTimeout(r, 250));
      }
      return "done";
    });
    // Progress values, with the future's state then, and the outcome, in
    // the order the future saw them.
    const events: string[] = [];
    future.addProgressCallback((value, f) =>
      events.push(`progress ${value} ${f.state}`)
    );
    future.addDoneCallback(() => events.push("done"));
    assert.equal(await deadline(future.result(), WAIT, "task"), "done");
    assert.deepEqual(events, [
      "progress 1 running",
      "progress 2 running",
      "progress 3 running",
      "progress 4 running",
      "progress 5 running",
      "done",
    ]);
  });

  Deno.test(`${name}: a module task that imports reportProgress reports to its future`, async () => {
    await using pool = make({ maxWorkers: 1 });
    const future = pool.submit(tasks.countWithProgress, 5000);
    const seen: unknown[] = [];
    future.addProgressCallback((value) => seen.push(value));
    assert.equal(await deadline(future.result(), WAIT, "task"), 5000);
    assert.deepEqual(seen.at(-1), { done: 5000, of: 5000 }, "the last");
  });

  Deno.test(`${name}: a task reporting in a tight loop is coalesced to a few values and its last one arrives`, async () => {
    await using pool = make({ maxWorkers: 1 });
    const future = pool.submit((n: number) => {
      for (let i = 1; i <= n; i++) reportProgress(i);
      return n;
    }, 1_000_000);
    const seen: number[] = [];
    future.addProgressCallback((value) => seen.push(value as number));
    assert.equal(await deadline(future.result(), WAIT, "task"), 1_000_000);
    assert.equal(seen.at(-1), 1_000_000, "the last always arrives");
    assert.equal(seen[0], 1, "the first goes at once");
    assert.ok(seen.length < 50, `${seen.length} values for 1,000,000 reports`);
    assert.deepEqual(seen, [...seen].sort((a, b) => a - b), "in order");
  });

  Deno.test(`${name}: reportProgress is a global of every worker, and a value that cannot be cloned throws DataCloneError`, async () => {
    await using pool = make({ maxWorkers: 1 });
    assert.equal(
      await deadline(
        pool.submit(() =>
          typeof (globalThis as { reportProgress?: unknown }).reportProgress
        ).result(),
        WAIT,
        "global",
      ),
      "function",
    );
    const error = await deadline(
      pool.submit(() => reportProgress(() => "a function")).exception(),
      WAIT,
      "uncloneable",
    ) as Error;
    assert.equal(error?.name, "DataCloneError");
  });

  Deno.test(`${name}: a progress value arrives before a quick task's outcome in a batch`, async () => {
    await using pool = make({ maxWorkers: 1 });
    const report = (n: number) => {
      reportProgress(n);
      return n;
    };
    const futures = Array.from(
      { length: 200 },
      (_, i) => pool.submit(report, i),
    );
    const order: string[] = [];
    futures.forEach((f, i) => {
      f.addProgressCallback(() => order.push(`p${i}`));
      f.addDoneCallback(() => order.push(`d${i}`));
    });
    await deadline(Promise.all(futures.map((f) => f.result())), WAIT, "all");
    for (let i = 0; i < 200; i++) {
      assert.ok(order.includes(`p${i}`), `task ${i}'s progress arrived`);
      assert.ok(order.indexOf(`p${i}`) < order.indexOf(`d${i}`), `task ${i}`);
    }
  });
}

Deno.test("reportProgress() outside a task does nothing, even with a value that cannot be cloned", () => {
  // Inside a task this value throws DataCloneError (see above): outside,
  // nothing is sent, so nothing is cloned.
  assert.doesNotThrow(() => reportProgress(() => "a function"));
});
