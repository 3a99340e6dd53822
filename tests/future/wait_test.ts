import assert from "node:assert/strict";
import {
  ALL_COMPLETED,
  FIRST_COMPLETED,
  FIRST_EXCEPTION,
  Future,
  wait,
} from "../../mod.ts";
import { deadline } from "../_deadline.ts";

// Future state lives in #private fields, which deepEqual does not see: two
// futures compare equal whatever they are. So sets are compared by name.
function names<T>(
  futures: Iterable<Future<T>>,
  named: Map<Future<T>, string>,
): string[] {
  return [...futures].map((f) => named.get(f) ?? "unknown").sort();
}

function later(ms: number, fn: () => void): void {
  setTimeout(fn, ms);
}

Deno.test("wait() resolves at once for an empty iterable", async () => {
  const { done, notDone } = await deadline(wait([]), 1000, "wait([])");
  assert.equal(done.size, 0);
  assert.equal(notDone.size, 0);
});

Deno.test("wait() counts duplicates once and waits for all by default", async () => {
  const a = new Future<number>();
  const b = new Future<number>();
  later(5, () => a.setResult(1));
  later(10, () => b.setException(new Error("b")));
  const { done, notDone } = await deadline(
    wait([a, a, b, b]),
    1000,
    "wait all",
  );
  const named = new Map([[a, "a"], [b, "b"]]);
  assert.deepEqual(names(done, named), ["a", "b"]);
  assert.equal(notDone.size, 0);
});

Deno.test("wait() with FIRST_COMPLETED returns on the first done future", async () => {
  const fast = new Future<number>();
  const slow = new Future<number>();
  later(5, () => fast.setResult(1));
  const result = await deadline(
    wait([slow, fast], { returnWhen: FIRST_COMPLETED }),
    1000,
    "first completed",
  );
  const named = new Map([[fast, "fast"], [slow, "slow"]]);
  assert.deepEqual(names(result.done, named), ["fast"]);
  assert.deepEqual(names(result.notDone, named), ["slow"]);
  // The sets are snapshots: finishing slow later changes nothing.
  slow.setResult(2);
  assert.ok(result.notDone.has(slow) && !result.done.has(slow));
});

Deno.test("wait() counts a cancelled future as completed", async () => {
  const a = new Future<number>();
  const b = new Future<number>();
  later(5, () => a.cancel());
  const first = await deadline(
    wait([a, b], { returnWhen: FIRST_COMPLETED }),
    1000,
    "cancelled counts",
  );
  assert.deepEqual(names(first.done, new Map([[a, "a"], [b, "b"]])), ["a"]);
  b.cancel();
  const all = await wait([a, b], { returnWhen: ALL_COMPLETED });
  assert.equal(all.done.size, 2);
});

Deno.test("wait() with FIRST_EXCEPTION returns when a future fails", async () => {
  const ok = new Future<number>();
  const bad = new Future<number>();
  const never = new Future<number>();
  later(5, () => ok.setResult(1));
  later(15, () => bad.setException(new Error("bad")));
  const result = await deadline(
    wait([ok, bad, never], { returnWhen: FIRST_EXCEPTION }),
    1000,
    "first exception",
  );
  const named = new Map([[ok, "ok"], [bad, "bad"], [never, "never"]]);
  assert.deepEqual(names(result.done, named), ["bad", "ok"]);
  assert.deepEqual(names(result.notDone, named), ["never"]);
});

Deno.test("wait() with FIRST_EXCEPTION returns at once for an already failed future", async () => {
  const bad = new Future<number>();
  bad.setException(new Error("bad"));
  const never = new Future<number>();
  const result = await deadline(
    wait([bad, never], { returnWhen: FIRST_EXCEPTION }),
    1000,
    "already failed",
  );
  const named = new Map([[bad, "bad"], [never, "never"]]);
  assert.deepEqual(names(result.done, named), ["bad"]);
  assert.deepEqual(names(result.notDone, named), ["never"]);
});

Deno.test("wait() with FIRST_EXCEPTION waits for all when none fails", async () => {
  const a = new Future<number>();
  const b = new Future<number>();
  later(5, () => a.setResult(1));
  later(10, () => b.cancel());
  const result = await deadline(
    wait([a, b], { returnWhen: FIRST_EXCEPTION }),
    1000,
    "no failure",
  );
  assert.equal(result.done.size, 2);
  assert.equal(result.notDone.size, 0);
});

Deno.test("wait() resolves with what is done when the timeout passes", async () => {
  const done = new Future<number>();
  done.setResult(1);
  const pending = new Future<number>();
  const result = await deadline(
    wait([done, pending], { timeout: 20 }),
    1000,
    "wait timeout",
  );
  const named = new Map([[done, "done"], [pending, "pending"]]);
  assert.deepEqual(names(result.done, named), ["done"]);
  assert.deepEqual(names(result.notDone, named), ["pending"]);
  const zero = await deadline(
    wait([done, pending], { timeout: 0 }),
    1000,
    "wait timeout 0",
  );
  assert.deepEqual(names(zero.done, named), ["done"]);
  assert.deepEqual(names(zero.notDone, named), ["pending"]);
});

Deno.test("wait() rejects a bad timeout or returnWhen naming it", async () => {
  for (const timeout of [-1, NaN]) {
    await assert.rejects(
      wait([], { timeout }),
      (e) => e instanceof RangeError && /'timeout'/.test(e.message),
    );
  }
  await assert.rejects(
    wait([], { timeout: "1" as unknown as number }),
    (e) => e instanceof TypeError && /'timeout'/.test(e.message),
  );
  await assert.rejects(
    wait([], { returnWhen: "FIRST" as typeof ALL_COMPLETED }),
    (e) => e instanceof TypeError && /'returnWhen'/.test(e.message),
  );
});
