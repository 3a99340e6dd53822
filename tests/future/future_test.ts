import assert from "node:assert/strict";
import {
  CancelledError,
  Future,
  InvalidStateError,
  TimeoutError,
} from "../../mod.ts";
import { deadline } from "../_deadline.ts";

function settleLater<T>(ms: number, fn: () => void): Promise<void> {
  return new Promise((resolve) =>
    setTimeout(() => {
      fn();
      resolve();
    }, ms)
  );
}

Deno.test("Future starts pending and is not a thenable", async () => {
  const future = new Future<number>();
  assert.equal(future.state, "pending");
  assert.equal(future.done(), false);
  assert.equal("then" in future, false);
  // An async function's return and Promise.resolve hand the future back.
  assert.equal(await Promise.resolve(future), future);
  // deno-lint-ignore require-await
  const back = await (async () => future)();
  assert.equal(back, future);
});

Deno.test("Future<number> is assignable to Future<unknown>", () => {
  const typed: Future<number> = new Future<number>();
  const loose: Future<unknown> = typed;
  const mixed: Future<number | string>[] = [typed, new Future<string>()];
  assert.equal(loose, mixed[0]);
});

Deno.test("Future.cancel() cancels a pending future and is then idempotent", async () => {
  const future = new Future<number>();
  const seen: string[] = [];
  future.addDoneCallback((f) => seen.push(f.state));
  assert.equal(future.cancel(), true);
  assert.equal(future.cancel(), true);
  assert.equal(future.cancelled(), true);
  assert.equal(future.done(), true);
  assert.deepEqual(seen, ["cancelled"]);
  await assert.rejects(future.result(), CancelledError);
  await assert.rejects(future.exception(), CancelledError);
});

Deno.test("Future.cancel() returns false for a running or finished future", () => {
  const running = new Future<number>();
  assert.equal(running.setRunningOrNotifyCancel(), true);
  assert.equal(running.running(), true);
  assert.equal(running.cancel(), false);
  assert.equal(running.state, "running");
  const finished = new Future<number>();
  finished.setResult(1);
  assert.equal(finished.cancel(), false);
  assert.equal(finished.state, "finished");
});

Deno.test("Future.setRunningOrNotifyCancel() follows the state machine", () => {
  const cancelled = new Future<number>();
  cancelled.cancel();
  assert.equal(cancelled.setRunningOrNotifyCancel(), false);
  const running = new Future<number>();
  running.setRunningOrNotifyCancel();
  assert.throws(() => running.setRunningOrNotifyCancel(), InvalidStateError);
  const finished = new Future<number>();
  finished.setResult(1);
  assert.throws(() => finished.setRunningOrNotifyCancel(), InvalidStateError);
});

Deno.test("Future.setResult() and setException() after done or cancel throw InvalidStateError", () => {
  const cancelled = new Future<number>();
  cancelled.cancel();
  assert.throws(() => cancelled.setResult(1), InvalidStateError);
  assert.throws(() => cancelled.setException(new Error()), InvalidStateError);
  const finished = new Future<number>();
  finished.setResult(1);
  assert.throws(() => finished.setResult(2), InvalidStateError);
  const failed = new Future<number>();
  failed.setException(new Error("x"));
  assert.throws(() => failed.setException(new Error("y")), InvalidStateError);
});

Deno.test("Future.result() resolves with the value, set before or after the call", async () => {
  const early = new Future<string>();
  early.setResult("early");
  assert.equal(await early.result(), "early");
  const late = new Future<string>();
  const waiting = late.result();
  await settleLater(5, () => late.setResult("late"));
  assert.equal(await deadline(waiting, 1000, "late result"), "late");
  assert.equal(await late.exception(), undefined);
});

Deno.test("Future.result() rejects with the task's error and exception() returns it", async () => {
  const future = new Future<string>();
  const error = new RangeError("bad");
  const waiting = future.result();
  future.setException(error);
  await assert.rejects(waiting, (e) => e === error);
  await assert.rejects(future.result(), (e) => e === error);
  assert.equal(await future.exception(), error);
});

Deno.test("Future.result() hands out one promise per future, before and after done", async () => {
  const late = new Future<string>();
  const first = late.result();
  assert.equal(late.result(), first);
  late.setResult("late");
  assert.equal(late.result(), first);
  assert.equal(await first, "late");

  const early = new Future<string>();
  early.setResult("early");
  assert.equal(early.result(), early.result());

  const failed = new Future<string>();
  const waiting = failed.result();
  const error = new Error("failed");
  failed.setException(error);
  assert.equal(failed.result(), waiting);
  await assert.rejects(waiting, (e) => e === error);

  const cancelled = new Future<string>();
  const before = cancelled.result();
  cancelled.cancel();
  assert.equal(cancelled.result(), before);
  await assert.rejects(before, CancelledError);
  const after = new Future<string>();
  after.cancel();
  assert.equal(after.result(), after.result());
  await assert.rejects(after.result(), CancelledError);

  // With options, each call is a wait of its own, for the same value.
  const bounded = new Future<number>();
  const a = bounded.result({ timeout: 1000 });
  const b = bounded.result({ timeout: 1000 });
  assert.notEqual(a, b);
  bounded.setResult(7);
  assert.deepEqual(await Promise.all([a, b]), [7, 7]);
});

Deno.test("Future.result() awaited, then failed or cancelled: the awaited promise rejects, nothing else", async () => {
  const unhandled: unknown[] = [];
  const listener = (event: PromiseRejectionEvent) => {
    unhandled.push(event.reason);
    event.preventDefault();
  };
  globalThis.addEventListener("unhandledrejection", listener);
  try {
    const failed = new Future<number>();
    const error = new Error("observed");
    const caught = failed.result().catch((e) => e);
    failed.setException(error);
    assert.equal(await caught, error);
    const cancelled = new Future<number>();
    const stopped = cancelled.result().catch((e) => e);
    cancelled.cancel();
    assert.ok(await stopped instanceof CancelledError);
    // Waited on with options only: the promise result() keeps is never made.
    const timed = new Future<number>();
    const waited = timed.result({ timeout: 1000 }).catch((e) => e);
    timed.setException(error);
    assert.equal(await waited, error);
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(unhandled, []);
  } finally {
    globalThis.removeEventListener("unhandledrejection", listener);
  }
});

Deno.test("Future keeps progress callbacks and done callbacks apart", async () => {
  const future = new Future<number>();
  const seen: unknown[] = [];
  future.addDoneCallback(() => seen.push("done a"));
  future.addProgressCallback((value) => seen.push(["progress", value]));
  // A wait that gives up takes its own callback out, and no other.
  await assert.rejects(future.result({ timeout: 1 }), TimeoutError);
  future.addDoneCallback(() => seen.push("done b"));
  future.setRunningOrNotifyCancel();
  future.setProgress(1);
  future.setResult(2);
  future.setProgress(3);
  assert.deepEqual(seen, [["progress", 1], "done a", "done b"]);

  const alone = new Future<number>();
  const values: unknown[] = [];
  alone.addProgressCallback((value) => values.push(value));
  alone.setProgress(4);
  alone.setResult(5);
  alone.setProgress(6);
  assert.deepEqual(values, [4]);
});

Deno.test("Future.result() rejects TimeoutError and leaves the future pending", async () => {
  const future = new Future<number>();
  await assert.rejects(
    deadline(future.result({ timeout: 10 }), 1000, "result timeout"),
    TimeoutError,
  );
  assert.equal(future.state, "pending");
  await assert.rejects(future.exception({ timeout: 0 }), TimeoutError);
  // Still usable afterwards.
  future.setResult(7);
  assert.equal(await future.result({ timeout: 10 }), 7);
});

Deno.test("Future.result() rejects with signal.reason and leaves the future pending", async () => {
  const future = new Future<number>();
  const controller = new AbortController();
  const waiting = future.result({ signal: controller.signal });
  const reason = new Error("stop");
  controller.abort(reason);
  await assert.rejects(deadline(waiting, 1000, "abort"), (e) => e === reason);
  await assert.rejects(
    future.result({ signal: AbortSignal.abort("already") }),
    (e) => e === "already",
  );
  assert.equal(future.state, "pending");
  future.setResult(1);
  assert.equal(await future.result({ signal: controller.signal }), 1);
});

Deno.test("Future.result() and exception() reject a bad timeout naming 'timeout'", async () => {
  const future = new Future<number>();
  for (const bad of [-1, NaN]) {
    assert.throws(
      () => future.result({ timeout: bad }),
      (e) => e instanceof RangeError && /'timeout'/.test(e.message),
    );
    await assert.rejects(
      future.exception({ timeout: bad }),
      (e) => e instanceof RangeError && /'timeout'/.test((e as Error).message),
    );
  }
  assert.throws(
    () => future.result({ timeout: "5" as unknown as number }),
    (e) => e instanceof TypeError && /'timeout'/.test(e.message),
  );
  assert.throws(
    () => future.result({ signal: {} as AbortSignal }),
    (e) => e instanceof TypeError && /'signal'/.test(e.message),
  );
});

Deno.test("Future.addDoneCallback() reports a throwing callback and still runs the others", () => {
  const future = new Future<number>();
  const errors: unknown[][] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => errors.push(args);
  try {
    const calls: string[] = [];
    future.addDoneCallback(() => calls.push("first"));
    future.addDoneCallback(() => {
      throw new Error("callback broke");
    });
    future.addDoneCallback(() => calls.push("third"));
    future.setResult(1);
    assert.deepEqual(calls, ["first", "third"]);
    assert.equal(errors.length, 1);
    assert.match(String(errors[0][1]), /callback broke/);
    assert.equal(future.state, "finished");
  } finally {
    console.error = original;
  }
});

Deno.test("Future.addDoneCallback() runs at once when the future is already done", () => {
  const future = new Future<number>();
  future.setResult(1);
  let called = 0;
  future.addDoneCallback((f) => {
    assert.equal(f, future);
    called++;
  });
  assert.equal(called, 1);
  assert.throws(
    () => future.addDoneCallback(5 as unknown as () => void),
    TypeError,
  );
});

Deno.test("Future that fails unobserved causes no unhandled rejection", async () => {
  const unhandled: unknown[] = [];
  const listener = (event: PromiseRejectionEvent) => {
    unhandled.push(event.reason);
    event.preventDefault();
  };
  globalThis.addEventListener("unhandledrejection", listener);
  try {
    const future = new Future<number>();
    future.setException(new Error("nobody looks"));
    const cancelled = new Future<number>();
    cancelled.cancel();
    // A wait that timed out leaves nothing behind either.
    const waited = new Future<number>();
    await assert.rejects(waited.result({ timeout: 1 }), TimeoutError);
    waited.setException(new Error("later"));
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(unhandled, []);
  } finally {
    globalThis.removeEventListener("unhandledrejection", listener);
  }
});

Deno.test("Future.setProgress() calls every progress callback in order with the value and the future", () => {
  const future = new Future<number>();
  const seen: unknown[] = [];
  future.addProgressCallback((value, f) =>
    seen.push(["a", value, f === future])
  );
  future.addProgressCallback((value) => seen.push(["b", value]));
  future.setRunningOrNotifyCancel();
  future.setProgress(1);
  future.setProgress({ half: true });
  assert.deepEqual(seen, [
    ["a", 1, true],
    ["b", 1],
    ["a", { half: true }, true],
    ["b", { half: true }],
  ]);
});

Deno.test("Future.setProgress() is ignored once the future is done: no progress after the outcome", () => {
  const future = new Future<number>();
  const seen: unknown[] = [];
  future.addProgressCallback((value) => seen.push(value));
  future.setResult(1);
  future.setProgress(2);
  future.addProgressCallback((value) => seen.push(value));
  future.setProgress(3);
  assert.deepEqual(seen, []);
});

Deno.test("Future.addProgressCallback() reports a callback that throws and still calls the others", () => {
  const future = new Future<number>();
  const seen: unknown[] = [];
  const errors: unknown[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => errors.push(args);
  try {
    future.addProgressCallback(() => {
      throw new Error("bad callback");
    });
    future.addProgressCallback((value) => seen.push(value));
    future.setProgress(7);
  } finally {
    console.error = original;
  }
  assert.deepEqual(seen, [7]);
  assert.equal(errors.length, 1);
  assert.throws(
    () => future.addProgressCallback(42 as never),
    (e) => e instanceof TypeError && /'fn' must be a function/.test(e.message),
  );
});
