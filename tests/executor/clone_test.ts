// Structured clone both ways (executor/_pool/, executor/_worker/,
// executor/_wire/error_record.ts): what cannot be cloned fails only its own
// task, and errors come back as what they were.
import assert from "node:assert/strict";
import { ThreadPoolExecutor } from "../../mod.ts";
import { deadline } from "../_deadline.ts";

const WAIT = 10_000;

function assertDataCloneError(error: unknown): void {
  assert.ok(error instanceof DOMException, String(error));
  assert.equal(error.name, "DataCloneError");
}

// ------------------------------------------------------------- arguments

Deno.test("ThreadPoolExecutor.submit() fails a task whose argument is a function with DataCloneError, and the pool goes on", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const error = await deadline(
    pool.submit((f: unknown) => typeof f, () => 1).exception(),
    WAIT,
    "function argument",
  );
  assertDataCloneError(error);
  assert.equal(
    await deadline(pool.submit((x: number) => x + 1, 1).result(), WAIT, "next"),
    2,
  );
});

Deno.test("ThreadPoolExecutor.submit() fails a task whose argument is a symbol with DataCloneError, and the pool goes on", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const error = await deadline(
    pool.submit((s: unknown) => String(s), { key: Symbol("x") }).exception(),
    WAIT,
    "symbol argument",
  );
  assertDataCloneError(error);
  assert.equal(
    await deadline(pool.submit(() => "ok").result(), WAIT, "next"),
    "ok",
  );
});

Deno.test("ThreadPoolExecutor.submit() fails only the uncloneable task of a batch", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const id = (x: unknown) => x;
  // Tiny tasks first, so the pool sends the next ones to the worker in one
  // message.
  for await (
    const _ of pool.map(
      id,
      Array.from({ length: 200 }, (_, i) => i),
    )
  ) {
    // drain
  }
  const futures = [1, Symbol("bad"), 3, () => 4, 5].map((x) =>
    pool.submit(id, x)
  );
  const outcomes = await deadline(
    Promise.all(futures.map((f) => f.result().then((v) => v, (e) => e))),
    WAIT,
    "batch",
  );
  assert.equal(outcomes[0], 1);
  assertDataCloneError(outcomes[1]);
  assert.equal(outcomes[2], 3);
  assertDataCloneError(outcomes[3]);
  assert.equal(outcomes[4], 5);
});

// --------------------------------------------------------------- results

Deno.test("ThreadPoolExecutor.submit() fails a task whose result cannot be cloned with DataCloneError", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const fn = await deadline(
    pool.submit(() => () => 1).exception(),
    WAIT,
    "function result",
  );
  assertDataCloneError(fn);
  const symbol = await deadline(
    pool.submit(async () => {
      await null;
      return { s: Symbol("s") };
    }).exception(),
    WAIT,
    "symbol result",
  );
  assertDataCloneError(symbol);
  assert.equal(
    await deadline(pool.submit(() => "ok").result(), WAIT, "next"),
    "ok",
  );
});

Deno.test("ThreadPoolExecutor.submit() fails only the task with the uncloneable result among results sent together", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const make = (kind: string) => kind === "fn" ? () => 1 : kind;
  for await (const _ of pool.map(make, Array(200).fill("warm"))) {
    // drain: tiny tasks, so the next ones travel and return in batches
  }
  const futures = ["a", "fn", "b"].map((k) => pool.submit(make, k));
  const outcomes = await deadline(
    Promise.all(futures.map((f) => f.result().then((v) => v, (e) => e))),
    WAIT,
    "results",
  );
  assert.equal(outcomes[0], "a");
  assertDataCloneError(outcomes[1]);
  assert.equal(outcomes[2], "b");
});

Deno.test("ThreadPoolExecutor: when a batch's transfer list fails, the other results of the batch still arrive moved", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  // Each call keeps its buffer in the worker, so a later task can tell
  // whether it was moved (detached there) or copied. Call 1 detaches its own
  // buffer first: a transfer list holding it fails the whole batch's
  // postMessage, and the results are then sent one by one.
  const make = (i: number) => {
    const buffer = new ArrayBuffer(8);
    const kept = ((globalThis as { kept?: ArrayBuffer[] }).kept ??= []);
    kept[i] = buffer;
    if (i === 1) structuredClone(buffer, { transfer: [buffer] });
    return { "@concurrent/futures:transfer": [buffer], value: { i, buffer } };
  };
  for await (const _ of pool.map(make, Array(200).fill(9))) {
    // drain: tiny tasks, so the next ones travel and return in one batch
  }
  const futures = [0, 1, 2].map((i) => pool.submit(make, i));
  const outcomes = await deadline(
    Promise.all(futures.map((f) => f.result().then((v) => v, (e) => e))),
    WAIT,
    "results",
  );
  assert.equal(outcomes[0].i, 0);
  assert.equal(outcomes[0].buffer.byteLength, 8);
  assertDataCloneError(outcomes[1]);
  assert.equal(outcomes[2].i, 2);
  const lengths = await deadline(
    pool.submit(() =>
      (globalThis as unknown as { kept: ArrayBuffer[] }).kept.slice(0, 3)
        .map((buffer) => buffer.byteLength)
    ).result(),
    WAIT,
    "the worker's buffers",
  );
  // 0: detached in the worker, so moved (call 1 detached its own).
  assert.deepEqual(lengths, [0, 0, 0]);
});

// ---------------------------------------------------------------- errors

Deno.test("ThreadPoolExecutor.submit() brings back a task's error with name, message, worker-side stack and cause", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const error = await deadline(
    pool.submit(function explode(detail: string) {
      throw new Error(`boom: ${detail}`, { cause: { code: 7 } });
    }, "now").exception(),
    WAIT,
    "error",
  );
  assert.ok(error instanceof Error);
  assert.equal(error.name, "Error");
  assert.equal(error.message, "boom: now");
  assert.deepEqual(error.cause, { code: 7 });
  // The stack is the worker's: it runs through the task and the worker side.
  assert.match(error.stack ?? "", /^Error: boom: now\n/);
  assert.match(error.stack ?? "", /at explode /);
  assert.match(error.stack ?? "", /blob:/);
});

Deno.test("ThreadPoolExecutor.submit() brings back an error cause that is an error", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const error = await deadline(
    pool.submit(() => {
      throw new Error("outer", { cause: new RangeError("inner") });
    }).exception(),
    WAIT,
    "error with cause",
  );
  assert.ok(error instanceof Error);
  assert.ok(error.cause instanceof RangeError, String(error.cause));
  assert.equal(error.cause.message, "inner");
  assert.match(error.cause.stack ?? "", /RangeError: inner/);
});

Deno.test("ThreadPoolExecutor.submit() keeps built-in error types instanceof", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const cases = [
    [() => (null as unknown as object).toString(), TypeError],
    [() => new Array(-1), RangeError],
    [() => JSON.parse("{"), SyntaxError],
    [() => decodeURIComponent("%"), URIError],
    [() => {
      throw new EvalError("eval");
    }, EvalError],
    [() => Deno.readTextFileSync("/no/such/file"), Deno.errors.NotFound],
  ] as const;
  for (const [task, type] of cases) {
    const error = await deadline(
      pool.submit(task as () => unknown).exception(),
      WAIT,
      type.name,
    );
    assert.ok(error instanceof type, `${type.name}: ${error}`);
    assert.equal((error as Error).name, type.name);
  }
});

Deno.test("ThreadPoolExecutor.submit() keeps a DOMException's name", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const abort = await deadline(
    pool.submit(() => {
      throw new DOMException("stopped", "AbortError");
    }).exception(),
    WAIT,
    "AbortError",
  );
  assert.ok(abort instanceof DOMException, String(abort));
  assert.equal(abort.name, "AbortError");
  assert.equal(abort.message, "stopped");
  assert.equal(abort.code, DOMException.ABORT_ERR);
  // One thrown by the platform inside the task.
  const clone = await deadline(
    pool.submit(() => structuredClone(() => 1)).exception(),
    WAIT,
    "DataCloneError in the task",
  );
  assertDataCloneError(clone);
});

Deno.test("ThreadPoolExecutor.submit() keeps the name of a custom error class", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const error = await deadline(
    pool.submit(() => {
      class ValidationError extends Error {
        override name = "ValidationError";
      }
      throw new ValidationError("bad input");
    }).exception(),
    WAIT,
    "custom error",
  );
  assert.ok(error instanceof Error);
  assert.equal(error.name, "ValidationError");
  assert.equal(error.message, "bad input");
  assert.match(error.stack ?? "", /^ValidationError: bad input/);
});

Deno.test("ThreadPoolExecutor.submit() brings back thrown non-errors as they were", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const thrown = [42, "text", { code: 1, nested: [1, 2] }, null, undefined];
  for (const value of thrown) {
    const future = pool.submit((v: unknown) => {
      throw v;
    }, value);
    await assert.rejects(
      deadline(future.result(), WAIT, String(value)),
      (error) => {
        assert.deepEqual(error, value);
        return true;
      },
    );
  }
  // Also from an async task, as a rejection.
  const rejected = pool.submit(() => Promise.reject({ code: 2 }));
  assert.deepEqual(
    await deadline(rejected.exception(), WAIT, "rejection"),
    { code: 2 },
  );
});
