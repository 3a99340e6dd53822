import assert from "node:assert/strict";
import { asCompleted, Future, TimeoutError } from "../../mod.ts";
import { deadline } from "../_deadline.ts";

// Future state lives in #private fields, which deepEqual does not see: two
// futures compare equal whatever they are. So futures are compared by name.
function names<T>(
  futures: Iterable<Future<T>>,
  named: Map<Future<T>, string>,
): string[] {
  return [...futures].map((f) => named.get(f) ?? "unknown");
}

async function collect<T>(
  iterator: AsyncGenerator<Future<T>>,
): Promise<Future<T>[]> {
  const out: Future<T>[] = [];
  for await (const future of iterator) out.push(future);
  return out;
}

Deno.test("asCompleted() yields nothing for an empty iterable", async () => {
  assert.deepEqual(await deadline(collect(asCompleted([])), 1000, "empty"), []);
});

Deno.test("asCompleted() yields done futures first, then in completion order, each once", async () => {
  const done = new Future<string>();
  done.setResult("done");
  const slow = new Future<string>();
  const fast = new Future<string>();
  setTimeout(() => slow.setResult("slow"), 30);
  setTimeout(() => fast.setException(new Error("fast")), 5);
  const order = await deadline(
    collect(asCompleted([slow, fast, done, slow, done])),
    1000,
    "asCompleted order",
  );
  const named = new Map([[done, "done"], [fast, "fast"], [slow, "slow"]]);
  assert.deepEqual(names(order, named), ["done", "fast", "slow"]);
});

Deno.test("asCompleted() yields the Future objects themselves, keyed in a Map", async () => {
  const future = new Future<number>();
  const urls = new Map([[future, "https://example.com"]]);
  setTimeout(() => future.setResult(1), 1);
  const seen: string[] = [];
  for await (const f of asCompleted(urls.keys())) {
    assert.equal(f, future);
    seen.push(urls.get(f)!);
  }
  assert.deepEqual(seen, ["https://example.com"]);
});

Deno.test("asCompleted() throws TimeoutError saying how many futures are unfinished", async () => {
  const futures = Array.from({ length: 5 }, () => new Future<number>());
  futures[0].setResult(0);
  setTimeout(() => futures[1].setResult(1), 1);
  const seen: Future<number>[] = [];
  await assert.rejects(
    deadline(
      (async () => {
        for await (const f of asCompleted(futures, { timeout: 50 })) {
          seen.push(f);
        }
      })(),
      1000,
      "asCompleted timeout",
    ),
    (e) =>
      e instanceof TimeoutError && /3 of 5 futures unfinished/.test(e.message),
  );
  assert.equal(seen.length, 2);
  assert.equal(seen[0], futures[0]);
  assert.equal(seen[1], futures[1]);
});

Deno.test("asCompleted() with timeout 0 yields what is done, then throws", async () => {
  const done = new Future<number>();
  done.cancel();
  const pending = new Future<number>();
  const seen: Future<number>[] = [];
  await assert.rejects(
    (async () => {
      for await (const f of asCompleted([done, pending], { timeout: 0 })) {
        seen.push(f);
      }
    })(),
    (e) => e instanceof TimeoutError && /1 of 2/.test(e.message),
  );
  assert.equal(seen.length, 1);
  assert.equal(seen[0], done);
});

Deno.test("asCompleted() counts its timeout from the call", async () => {
  const pending = new Future<number>();
  const iterator = asCompleted([pending], { timeout: 200 });
  // Time passing is what is tested: the timeout is spent before next().
  await new Promise((resolve) => setTimeout(resolve, 300));
  const started = performance.now();
  await assert.rejects(
    deadline(iterator.next(), 1000, "next() past the timeout"),
    TimeoutError,
  );
  const took = performance.now() - started;
  // Counted from next(), it would take the whole 200 ms.
  assert.ok(took < 100, `next() threw after ${took} ms`);
});

Deno.test("asCompleted() ends with signal.reason when the signal aborts", async () => {
  const pending = new Future<number>();
  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error("stop")), 5);
  await assert.rejects(
    deadline(
      collect(asCompleted([pending], { signal: controller.signal })),
      1000,
      "abort",
    ),
    (e) => e instanceof Error && e.message === "stop",
  );
  await assert.rejects(
    collect(asCompleted([pending], { signal: AbortSignal.abort("gone") })),
    (e) => e === "gone",
  );
});

Deno.test("asCompleted() cleans up when the loop is left early", async () => {
  const a = new Future<number>();
  const b = new Future<number>();
  // Settled later, so the first next() waits, with its timeout timer and
  // its abort listener. Sanitizers would report a timer left behind.
  setTimeout(() => a.setResult(1), 5);
  const controller = new AbortController();
  const signal = controller.signal;
  let added = 0;
  let removed = 0;
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = (...args: Parameters<typeof add>) => {
    if (args[0] === "abort") added++;
    add(...args);
  };
  signal.removeEventListener = (...args: Parameters<typeof remove>) => {
    if (args[0] === "abort") removed++;
    remove(...args);
  };
  const seen: Future<number>[] = [];
  await deadline(
    (async () => {
      for await (const f of asCompleted([a, b], { timeout: 10_000, signal })) {
        seen.push(f);
        break;
      }
    })(),
    1000,
    "the first future",
  );
  assert.equal(seen.length, 1);
  assert.equal(seen[0], a);
  assert.ok(added >= 1, "the wait listened to the signal");
  assert.equal(removed, added, "every abort listener removed");
  b.setResult(2);
});

Deno.test("asCompleted() rejects a bad timeout naming 'timeout'", () => {
  for (const timeout of [-1, NaN]) {
    assert.throws(
      () => asCompleted([], { timeout }),
      (e) => e instanceof RangeError && /'timeout'/.test(e.message),
    );
  }
  assert.throws(
    () => asCompleted([], { timeout: "1" as unknown as number }),
    (e) => e instanceof TypeError && /'timeout'/.test(e.message),
  );
});
