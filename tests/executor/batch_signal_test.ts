// A task with a signal that may share a batch (TaskOptions.batch, what a
// Redis node's read-ahead hands its pool): aborted while it waits behind
// another on its worker, it is stopped as it begins — its worker replaced,
// the task behind it run elsewhere, the one ahead unharmed.
import assert from "node:assert/strict";
import { ProcessPoolExecutor } from "../../mod.ts";
import { sourceSpec } from "../../executor/_base/function_spec.ts";
import { stateOf, submitTo } from "../../executor/_pool/submit.ts";
import type { RunOptions } from "../../executor/executor.ts";
import { deadline } from "../_deadline.ts";

// Spins `ms` ms (synchronously: only a killed process stops it).
const spin = (ms: number) => {
  const end = Date.now() + ms;
  while (Date.now() < end);
  return ms;
};

Deno.test("a batched task aborted behind another on its worker is stopped as it begins", async () => {
  // A process pool: a spinning thread cannot be stopped (Deno 2.9).
  await using pool = new ProcessPoolExecutor({ maxWorkers: 1 });
  const state = stateOf(pool)!;
  const spec = sourceSpec(spin.toString());
  const run = (ms: number, signal?: AbortSignal) =>
    submitTo(
      state,
      spec,
      [ms],
      { signal, batch: true } as RunOptions,
      0,
    );
  // spin(0) is quick: the pool sends the next ones to the worker together.
  for (let i = 0; i < 20; i++) await run(0).result();
  const controller = new AbortController();
  const ahead = run(300);
  const stopped = run(30_000, controller.signal);
  const behind = run(0);
  // All three go to the one worker (the first alone, the next two in one
  // message) in the pump's next round: "running" has no event, so a
  // bounded poll.
  await deadline(
    (async () => {
      while (!behind.running()) {
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    })(),
    10_000,
    "the three sent",
  );
  assert.equal(ahead.running(), true);
  assert.equal(stopped.running(), true);
  const started = performance.now();
  controller.abort(new Error("enough"));
  await assert.rejects(
    deadline(stopped.result(), 10_000, "the stopped task"),
    /enough/,
  );
  assert.equal(await deadline(ahead.result(), 10_000, "the task ahead"), 300);
  assert.equal(await deadline(behind.result(), 10_000, "the task behind"), 0);
  // Not the 30 s it would spin: stopped as it began.
  assert.ok(performance.now() - started < 10_000);
  assert.equal(pool.stats().running, 0);
});
