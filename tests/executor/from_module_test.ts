// fromModule (executor/from_module.ts): typed references to a module's
// exports, run by the worker, which imports the module once.
import assert from "node:assert/strict";
import {
  fromModule,
  type Future,
  TaskRef,
  ThreadPoolExecutor,
} from "../../mod.ts";
import { deadline } from "../_deadline.ts";

const WAIT = 10_000;
const TASKS = new URL("./fixtures/tasks.ts", import.meta.url);
const tasks = fromModule<typeof import("./fixtures/tasks.ts")>(TASKS);

Deno.test("fromModule() tasks run the module's export: submit(tasks.fib, 20)", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const future: Future<number> = pool.submit(tasks.fib, 20);
  assert.equal(await deadline(future.result(), WAIT, "fib"), 6765);
  const sum = pool.submit(tasks.add, 2, 3);
  assert.equal(await deadline(sum.result(), WAIT, "add"), 5);
  const echoed = pool.submit(tasks.echo, { a: [1, 2] });
  assert.deepEqual(await deadline(echoed.result(), WAIT, "echo"), {
    a: [1, 2],
  });
});

Deno.test("fromModule() task references are type-checked against the export's signature", () => {
  // Type-checked by `deno test`, never run: each @ts-expect-error must fail
  // to compile without it, or the check fails as an unused directive.
  const typeOnly = (pool: ThreadPoolExecutor) => {
    // @ts-expect-error: fib takes a number
    pool.submit(tasks.fib, "20");
    // @ts-expect-error: add takes two numbers
    pool.submit(tasks.add, 1);
    // @ts-expect-error: fib's future holds a number
    const wrong: Future<string> = pool.submit(tasks.fib, 1);
    // @ts-expect-error: answer is not a function, so not a task
    tasks.answer;
    // @ts-expect-error: no such export
    tasks.nope;
    // @ts-expect-error: run() checks its argument list too
    pool.run(tasks.add, [1, "2"]);
    return wrong;
  };
  void typeOnly;
  assert.ok(tasks.fib instanceof TaskRef);
  assert.equal(tasks.fib.name, "fib");
  assert.equal(tasks.fib.module, TASKS.href);
});

Deno.test("fromModule() fails the task of a missing module with an error naming the module", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const url = new URL("./fixtures/no_such_module.ts", import.meta.url);
  const missing = fromModule<{ f(): number }>(url);
  const error = await deadline(
    pool.submit(missing.f).exception(),
    WAIT,
    "missing module",
  );
  assert.ok(error instanceof TypeError, String(error));
  assert.match(error.message, /no_such_module\.ts/);
  assert.ok(error.message.includes(url.href), error.message);
  // Only that future fails: the pool goes on, and a module task still works.
  assert.equal(
    await deadline(pool.submit(tasks.add, 1, 1).result(), WAIT, "next"),
    2,
  );
  const again = await deadline(
    pool.submit(missing.f).exception(),
    WAIT,
    "missing module again",
  );
  assert.match(String(again), /no_such_module\.ts/);
});

Deno.test("fromModule() fails the task of a missing export with an error naming the export", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const lying = fromModule<{ nope(): number; answer(): number }>(TASKS);
  const error = await deadline(
    pool.submit(lying.nope).exception(),
    WAIT,
    "missing export",
  );
  assert.ok(error instanceof TypeError, String(error));
  assert.match(error.message, /'nope'/);
  assert.ok(error.message.includes(TASKS.href), error.message);
  const notAFunction = await deadline(
    pool.submit(lying.answer).exception(),
    WAIT,
    "export that is not a function",
  );
  assert.match(String(notAFunction), /'answer'.*number/);
  // The worker already has the spec: a second try names the export again.
  const again = await deadline(
    pool.submit(lying.nope).exception(),
    WAIT,
    "missing export again",
  );
  assert.match(String(again), /'nope'/);
  assert.equal(
    await deadline(pool.submit(tasks.fib, 10).result(), WAIT, "next"),
    55,
  );
});

Deno.test("fromModule() returns an object that is not a thenable", async () => {
  // `await` and Promise.resolve() would call a `then` export: there is none.
  assert.equal(await tasks, tasks);
  assert.equal(await Promise.resolve(tasks), tasks);
  assert.equal((tasks as Record<string, unknown>).then, undefined);
  const ref = await tasks.fib;
  assert.equal(ref, tasks.fib);
  assert.equal((tasks as Record<symbol, unknown>)[Symbol.iterator], undefined);
});

Deno.test("fromModule() throws TypeError for a relative URL", () => {
  assert.throws(() => fromModule("./fixtures/tasks.ts"), {
    name: "TypeError",
    message: /'url' must be an absolute URL.*import\.meta\.url/,
  });
});

Deno.test("fromModule() tasks import the module once per worker", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const ids = [];
  for (let i = 0; i < 3; i++) {
    ids.push(
      await deadline(
        pool.submit(tasks.moduleInstance).result(),
        WAIT,
        `moduleInstance ${i}`,
      ),
    );
  }
  assert.equal(new Set(ids).size, 1);
});

Deno.test("fromModule() tasks keep their error's name, message and cause", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const error = await deadline(
    pool.submit(tasks.fail, "no luck").exception(),
    WAIT,
    "fail",
  );
  assert.ok(error instanceof Error);
  assert.equal(error.name, "TaskFailure");
  assert.equal(error.message, "no luck");
  assert.equal(error.cause, "on purpose");
  assert.match(error.stack ?? "", /tasks\.ts/);
});

Deno.test("fromModule() tasks' own ReferenceErrors are not blamed on a closure", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  for (const turn of ["first", "cached"]) {
    const error = await deadline(
      pool.submit(tasks.missingVariable).exception(),
      WAIT,
      turn,
    );
    assert.ok(error instanceof ReferenceError, String(error));
    assert.equal(error.message, "notDefinedAnywhere is not defined");
  }
});

Deno.test("ThreadPoolExecutor runs a fromModule() initializer", async () => {
  await using pool = new ThreadPoolExecutor({
    maxWorkers: 1,
    initializer: tasks.setGreeting,
    initargs: ["hi"],
  });
  assert.equal(
    await deadline(pool.submit(tasks.greeting).result(), WAIT, "greeting"),
    "hi",
  );
});
