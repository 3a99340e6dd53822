// The pool's event tap (executor/_pool/tap.ts, through pool_view.ts): what
// a watcher hears, and that it hears nothing once it stops listening.
import assert from "node:assert/strict";
import { reportProgress, ThreadPoolExecutor } from "@concurrent/futures";
import { poolView, type TaskTap } from "../../executor/_pool/pool_view.ts";
import { deadline } from "../_deadline.ts";

function recorder(events: string[]): TaskTap {
  return {
    submitted: (_, id, fn) => events.push(`submitted ${id} ${fn}`),
    started: (_, worker) => events.push(`started ${worker}`),
    progress: (_, value) => events.push(`progress ${value}`),
    settled: (_, outcome, _at, ms, error) =>
      events.push(
        `${outcome}${typeof ms === "number" ? " ms" : ""}${
          error instanceof Error ? ` ${error.message}` : ""
        }`,
      ),
  };
}

Deno.test("Pool.listen() tells every listener each task's steps, and nothing once it stops", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1, name: "tap" });
  const view = poolView(pool)!;
  const first: string[] = [];
  const second: string[] = [];
  const stopFirst = view.listen(recorder(first));
  const stopSecond = view.listen(recorder(second));
  const ok = pool.submit(function half(x: number) {
    reportProgress(0.5);
    return x / 2;
  }, 4);
  const bad = pool.submit(function fails() {
    throw new Error("no");
  });
  const cancelled = pool.submit((x: number) => x, 1);
  cancelled.cancel();
  await deadline(
    Promise.allSettled([ok.result(), bad.result()]),
    10_000,
    "the tasks",
  );
  const expected = [
    "submitted 1 half",
    "submitted 2 fails",
    "submitted 3 anonymous",
    "cancelled",
    "started tap-1",
    "progress 0.5",
    "completed ms",
    "started tap-1",
    "failed ms no",
  ];
  assert.deepEqual(first.toSorted(), expected.toSorted());
  assert.ok(first.indexOf("progress 0.5") < first.indexOf("completed ms"));
  assert.deepEqual(second, first);
  stopFirst();
  await pool.submit((x: number) => x, 1).result();
  assert.equal(first.length, expected.length);
  assert.equal(second.length, expected.length + 3);
  stopSecond();
  await pool.submit((x: number) => x, 1).result();
  assert.equal(second.length, expected.length + 3);
  assert.equal(poolView({}), undefined);
});
