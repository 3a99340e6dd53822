// ThreadPoolExecutor (executor/thread_pool_executor.ts): submit and the
// function-task forms, lazy workers, idleTimeout, maxTasksPerWorker,
// initializer, name, shutdown, option checks, and a program that never shuts
// its pool down.
import assert from "node:assert/strict";
import { type Future, ShutdownError, ThreadPoolExecutor } from "../../mod.ts";
import { deadline } from "../_deadline.ts";
import { countWorkers } from "./_worker_count.ts";

const WAIT = 10_000;

// A task that resolves with `value` after `ms` in the worker.
const later = <T>(ms: number, value: T): Promise<T> =>
  new Promise((resolve) => setTimeout(() => resolve(value), ms));

// The worker's own random id, made by its first task.
const workerId = (): string =>
  (globalThis as unknown as { workerId?: string }).workerId ??= crypto
    .randomUUID();

// ---------------------------------------------------------------- submit

Deno.test("ThreadPoolExecutor.submit() runs an arrow function with its arguments", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const future: Future<number> = pool.submit(
    (a: number, b: number) => a + b,
    1,
    2,
  );
  assert.equal(await deadline(future.result(), WAIT, "arrow task"), 3);
  assert.equal(future.state, "finished");
});

Deno.test("ThreadPoolExecutor.submit() runs an async function and awaits it", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const future: Future<string> = pool.submit(async (s: string) => {
    await new Promise((resolve) => setTimeout(resolve, 5));
    return s.toUpperCase();
  }, "hi");
  assert.equal(await deadline(future.result(), WAIT, "async task"), "HI");
});

Deno.test("ThreadPoolExecutor.submit() runs `function` and `async function` expressions", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const plain = pool.submit(function double(x: number) {
    return x * 2;
  }, 21);
  const anonymous = pool.submit(function (x: number) {
    return x + 1;
  }, 1);
  const async = pool.submit(async function loadUrl(url: string) {
    await null;
    return new URL(url).host;
  }, "http://127.0.0.1:8000/x");
  assert.equal(await deadline(plain.result(), WAIT, "function task"), 42);
  assert.equal(await deadline(anonymous.result(), WAIT, "anonymous"), 2);
  assert.equal(
    await deadline(async.result(), WAIT, "async function task"),
    "127.0.0.1:8000",
  );
});

Deno.test("ThreadPoolExecutor.submit() runs method-shorthand functions", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const methods = {
    triple(x: number) {
      return x * 3;
    },
    async greet(name: string) {
      await null;
      return `hello ${name}`;
    },
  };
  assert.equal(
    await deadline(pool.submit(methods.triple, 5).result(), WAIT, "method"),
    15,
  );
  assert.equal(
    await deadline(pool.submit(methods.greet, "x").result(), WAIT, "async"),
    "hello x",
  );
  const inline = pool.submit(
    {
      f(x: number) {
        return -x;
      },
    }.f,
    4,
  );
  assert.equal(await deadline(inline.result(), WAIT, "inline method"), -4);
});

Deno.test("ThreadPoolExecutor.submit() compiles a function once per worker", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  // A named function expression sees itself: the same object on the second
  // call means the worker reused its compiled function.
  const probe = function probe(): boolean {
    const seen = (globalThis as unknown as { seen?: Set<unknown> }).seen ??=
      new Set();
    const had = seen.has(probe);
    seen.add(probe);
    return had;
  };
  assert.equal(await deadline(pool.submit(probe).result(), WAIT, "1st"), false);
  assert.equal(await deadline(pool.submit(probe).result(), WAIT, "2nd"), true);
});

Deno.test("ThreadPoolExecutor.submit() compiles a function task as strict code, as a module is", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  // In sloppy code a plain call's `this` is globalThis, and an assignment to
  // an undeclared name makes a global.
  const self = pool.submit(function (this: unknown) {
    return this === undefined;
  });
  assert.equal(await deadline(self.result(), WAIT, "this"), true);
  const leak = pool.submit(new Function("return () => { leaked = 1; }")());
  const error = await deadline(leak.exception(), WAIT, "assignment");
  assert.ok(error instanceof ReferenceError, String(error));
  // A nested helper function, as the error message advises.
  const fib = pool.submit((n: number) => {
    function fib(k: number): number {
      return k < 2 ? k : fib(k - 1) + fib(k - 2);
    }
    return fib(n);
  }, 20);
  assert.equal(await deadline(fib.result(), WAIT, "fib"), 6765);
});

Deno.test("ThreadPoolExecutor.submit() fails a task using its enclosing scope with a ReferenceError that points to fromModule", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const factor = 3;
  const sync = pool.submit((x: number) => x * factor, 2);
  const error = await deadline(sync.exception(), WAIT, "closure task");
  assert.ok(error instanceof ReferenceError, String(error));
  assert.match(error.message, /'factor'/);
  assert.match(error.message, /self-contained/);
  assert.match(error.message, /Define 'factor' inside the task/);
  assert.match(error.message, /fromModule\(\)/);
  const async = pool.submit(async () => {
    await null;
    return factor;
  });
  const later = await deadline(async.exception(), WAIT, "async closure");
  assert.ok(later instanceof ReferenceError, String(later));
  assert.match(later.message, /self-contained.*fromModule/s);
  // The pool goes on.
  assert.equal(
    await deadline(pool.submit(() => "ok").result(), WAIT, "next"),
    "ok",
  );
});

Deno.test("ThreadPoolExecutor.submit() throws TypeError for a native function", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  assert.throws(() => pool.submit(Math.max, 1, 2), {
    name: "TypeError",
    message: /native function/,
  });
  // Deno's built-ins written in JS do not read as [native code], but their
  // source cannot run on its own either.
  for (const builtIn of [structuredClone, fetch, atob, Deno.readTextFile]) {
    assert.throws(
      () => pool.submit(builtIn as (x: unknown) => unknown, "x"),
      { name: "TypeError", message: /native function/ },
      builtIn.name,
    );
  }
});

Deno.test("ThreadPoolExecutor.submit() runs a user function named like a built-in", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const fetch = (url: string) => `fetched ${url}`;
  const atob = function atob(s: string) {
    return s.length;
  };
  assert.equal(
    await deadline(pool.submit(fetch, "x").result(), WAIT, "fetch"),
    "fetched x",
  );
  assert.equal(
    await deadline(pool.submit(atob, "abc").result(), WAIT, "atob"),
    3,
  );
});

Deno.test("ThreadPoolExecutor.submit() throws TypeError for a bound function", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const bound = ((a: number, b: number) => a + b).bind(null, 1);
  assert.throws(() => pool.submit(bound, 2), {
    name: "TypeError",
    message: /bound function/,
  });
});

Deno.test("ThreadPoolExecutor.submit() throws TypeError for something that is not a task", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  for (const notATask of [42, "(x) => x", null, undefined, {}]) {
    assert.throws(
      () => pool.submit(notATask as never),
      { name: "TypeError", message: /'fn' must be a function/ },
      String(notATask),
    );
  }
  assert.throws(() => pool.submit(class Task {} as never), {
    name: "TypeError",
    message: /is a class/,
  });
});

Deno.test("ThreadPoolExecutor.run() takes its arguments as an array", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const future = pool.run((a: number, b: number) => a * b, [6, 7]);
  assert.equal(await deadline(future.result(), WAIT, "run"), 42);
  assert.throws(() => pool.run((a: number) => a, 1 as never), {
    name: "TypeError",
    message: /'args' must be an array/,
  });
});

// ---------------------------------------------------------- worker life

Deno.test("ThreadPoolExecutor reuses an idle worker before starting another", async () => {
  using workers = countWorkers();
  await using pool = new ThreadPoolExecutor({ maxWorkers: 4 });
  assert.equal(workers.started, 0, "no worker before the first task");
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) {
    ids.push(await deadline(pool.submit(workerId).result(), WAIT, "task"));
  }
  // One worker's id, five times: every task ran in the same worker.
  assert.equal(new Set(ids).size, 1, ids.join(", "));
  assert.equal(workers.started, 1);
});

Deno.test("ThreadPoolExecutor starts min(tasks, maxWorkers) workers for concurrent tasks", async () => {
  {
    using workers = countWorkers();
    await using pool = new ThreadPoolExecutor({ maxWorkers: 2 });
    const futures = [1, 2, 3].map((n) => pool.submit(later, 50, n));
    const results = await deadline(
      Promise.all(futures.map((f) => f.result())),
      WAIT,
      "three tasks on two workers",
    );
    assert.deepEqual(results, [1, 2, 3]);
    assert.equal(workers.started, 2);
  }
  {
    using workers = countWorkers();
    await using pool = new ThreadPoolExecutor({ maxWorkers: 3 });
    const futures = [1, 2].map((n) => pool.submit(later, 50, n));
    const ids = await deadline(
      Promise.all(futures.map((f) => f.result())),
      WAIT,
      "two tasks on up to three workers",
    );
    assert.deepEqual(ids, [1, 2]);
    assert.equal(workers.started, 2);
  }
});

Deno.test("ThreadPoolExecutor terminates workers idle for idleTimeout", async () => {
  using workers = countWorkers();
  await using pool = new ThreadPoolExecutor({
    maxWorkers: 2,
    idleTimeout: 100,
  });
  const start = performance.now();
  const futures = [1, 2].map((n) => pool.submit(later, 20, n));
  await deadline(
    Promise.all(futures.map((f) => f.result())),
    WAIT,
    "two tasks",
  );
  assert.equal(workers.started, 2);
  assert.equal(workers.terminated, 0, "not before idleTimeout");
  await deadline(workers.terminations(2), WAIT, "idle workers' exit");
  assert.ok(performance.now() - start >= 100);
  // Work after that starts a new worker.
  assert.equal(
    await deadline(pool.submit(() => 3).result(), WAIT, "after idle"),
    3,
  );
  assert.equal(workers.started, 3);
});

Deno.test("ThreadPoolExecutor keeps a busy worker past idleTimeout", async () => {
  using workers = countWorkers();
  await using pool = new ThreadPoolExecutor({
    maxWorkers: 1,
    idleTimeout: 30,
  });
  // A task longer than idleTimeout: its worker is not idle.
  const id1 = await deadline(
    pool.submit(async () => {
      await new Promise((resolve) => setTimeout(resolve, 150));
      return (globalThis as unknown as { workerId?: string }).workerId ??=
        crypto.randomUUID();
    }).result(),
    WAIT,
    "long task",
  );
  assert.equal(typeof id1, "string");
  assert.equal(workers.started, 1);
  assert.equal(workers.terminated, 0);
});

Deno.test("ThreadPoolExecutor replaces a worker after maxTasksPerWorker tasks", async () => {
  using workers = countWorkers();
  await using pool = new ThreadPoolExecutor({
    maxWorkers: 1,
    maxTasksPerWorker: 2,
  });
  const ids: string[] = [];
  for (let i = 0; i < 6; i++) {
    ids.push(await deadline(pool.submit(workerId).result(), WAIT, `task ${i}`));
  }
  assert.equal(ids[0], ids[1]);
  assert.equal(ids[2], ids[3]);
  assert.equal(ids[4], ids[5]);
  assert.equal(new Set(ids).size, 3, ids.join());
  assert.equal(workers.started, 3);
});

Deno.test("ThreadPoolExecutor replaces a worker after maxTasksPerWorker tasks submitted at once", async () => {
  using workers = countWorkers();
  await using pool = new ThreadPoolExecutor({
    maxWorkers: 1,
    maxTasksPerWorker: 2,
  });
  const futures = Array.from({ length: 6 }, () => pool.submit(workerId));
  const ids = await deadline(
    Promise.all(futures.map((f) => f.result())),
    WAIT,
    "six tasks",
  );
  assert.equal(ids[0], ids[1]);
  assert.equal(ids[2], ids[3]);
  assert.equal(ids[4], ids[5]);
  assert.equal(new Set(ids).size, 3, ids.join());
  assert.equal(workers.started, 3);
});

Deno.test("ThreadPoolExecutor runs initializer(...initargs) once in each new worker", async () => {
  using workers = countWorkers();
  await using pool = new ThreadPoolExecutor({
    maxWorkers: 2,
    initializer: (greeting: string, punctuation: string) => {
      const g = globalThis as unknown as { greeting: string; inits?: number };
      g.greeting = greeting + punctuation;
      g.inits = (g.inits ?? 0) + 1;
    },
    initargs: ["hello", "!"],
  });
  const read = async () => {
    await new Promise((resolve) => setTimeout(resolve, 20));
    const g = globalThis as unknown as { greeting: string; inits?: number };
    return `${g.greeting} ${g.inits}`;
  };
  const futures = [1, 2, 3, 4].map(() => pool.submit(read));
  const results = await deadline(
    Promise.all(futures.map((f) => f.result())),
    WAIT,
    "tasks after the initializer",
  );
  assert.deepEqual(results, Array(4).fill("hello! 1"));
  assert.equal(workers.started, 2);
});

Deno.test("ThreadPoolExecutor names its workers after the name option", async () => {
  {
    using workers = countWorkers();
    await using pool = new ThreadPoolExecutor({
      maxWorkers: 2,
      name: "crunch",
    });
    const selfName = async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      return (self as unknown as { name: string }).name;
    };
    const names = await deadline(
      Promise.all(
        [pool.submit(selfName), pool.submit(selfName)].map((f) => f.result()),
      ),
      WAIT,
      "names",
    );
    assert.deepEqual(names.sort(), ["crunch-1", "crunch-2"]);
    assert.deepEqual([...workers.names].sort(), ["crunch-1", "crunch-2"]);
  }
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const name = pool.submit(() => (self as unknown as { name: string }).name);
  assert.equal(
    await deadline(name.result(), WAIT, "default name"),
    "ThreadPoolExecutor-1",
  );
});

// -------------------------------------------------------------- shutdown

Deno.test("ThreadPoolExecutor.shutdown() is idempotent", async () => {
  const pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const future = pool.submit(later, 30, "done");
  const first = pool.shutdown();
  const second = pool.shutdown();
  await deadline(Promise.all([first, second]), WAIT, "two shutdowns");
  await deadline(pool.shutdown(), WAIT, "a third shutdown");
  await deadline(pool.shutdown({ wait: false }), WAIT, "shutdown, no wait");
  assert.equal(await future.result(), "done");
});

Deno.test("ThreadPoolExecutor.shutdown() waits for running and pending tasks", async () => {
  using workers = countWorkers();
  const pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const running = pool.submit(later, 50, "running");
  const pending = pool.submit(later, 10, "pending");
  await deadline(pool.shutdown(), WAIT, "shutdown");
  assert.ok(running.done() && pending.done());
  assert.equal(await running.result(), "running");
  assert.equal(await pending.result(), "pending");
  assert.equal(workers.terminated, workers.started, "every worker is gone");
});

Deno.test("ThreadPoolExecutor.shutdown({ wait: false }) resolves before the tasks finish", async () => {
  const pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const running = pool.submit(later, 100, "late");
  await deadline(pool.shutdown({ wait: false }), WAIT, "shutdown no wait");
  assert.equal(running.done(), false);
  assert.equal(await deadline(running.result(), WAIT, "task"), "late");
  await deadline(pool.shutdown(), WAIT, "shutdown");
});

Deno.test("ThreadPoolExecutor.shutdown({ cancelFutures: true }) cancels pending tasks only", async () => {
  const pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const running = pool.submit(later, 50, "running");
  // The pool dispatches on a microtask: let it reach its worker.
  await null;
  assert.ok(running.running());
  const pending = [1, 2, 3].map((n) => pool.submit(later, 50, n));
  await deadline(pool.shutdown({ cancelFutures: true }), WAIT, "shutdown");
  assert.equal(await running.result(), "running");
  assert.deepEqual(pending.map((f) => f.cancelled()), [true, true, true]);
  await assert.rejects(pending[0].result(), { name: "CancelledError" });
});

Deno.test("ThreadPoolExecutor.submit() throws ShutdownError after shutdown()", async () => {
  const pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const wait = pool.shutdown();
  assert.throws(() => pool.submit(() => 1), ShutdownError);
  assert.throws(() => pool.run(() => 1, []), {
    name: "ShutdownError",
    message: /after shutdown/,
  });
  await deadline(wait, WAIT, "shutdown");
  assert.throws(() => pool.submit(() => 1), ShutdownError);
});

Deno.test("ThreadPoolExecutor[Symbol.asyncDispose]() shuts down and waits (await using)", async () => {
  using workers = countWorkers();
  let future: Future<string>;
  let pool: ThreadPoolExecutor;
  {
    await using scoped = new ThreadPoolExecutor({ maxWorkers: 1 });
    pool = scoped;
    future = scoped.submit(later<string>, 50, "done");
  }
  assert.ok(future.done());
  assert.equal(await future.result(), "done");
  assert.equal(workers.started, 1);
  assert.equal(workers.terminated, 1);
  assert.throws(() => pool.submit(() => 1), ShutdownError);
});

// --------------------------------------------------------------- options

Deno.test("new ThreadPoolExecutor() throws RangeError for maxWorkers 0", () => {
  assert.throws(() => new ThreadPoolExecutor({ maxWorkers: 0 }), {
    name: "RangeError",
    message:
      "Cannot create ThreadPoolExecutor as 'maxWorkers' must be an integer >= 1: current value is 0",
  });
});

Deno.test("new ThreadPoolExecutor() throws RangeError for maxWorkers 1.5", () => {
  assert.throws(() => new ThreadPoolExecutor({ maxWorkers: 1.5 }), {
    name: "RangeError",
    message: /'maxWorkers' must be an integer >= 1: current value is 1\.5/,
  });
});

Deno.test('new ThreadPoolExecutor() throws TypeError for maxWorkers "2"', () => {
  // @ts-expect-error: a string is not a number
  assert.throws(() => new ThreadPoolExecutor({ maxWorkers: "2" }), {
    name: "TypeError",
    message: /'maxWorkers' must be a number: current value is "2" \(string\)/,
  });
});

Deno.test("new ThreadPoolExecutor() throws RangeError for maxTasksPerWorker 0", () => {
  assert.throws(() => new ThreadPoolExecutor({ maxTasksPerWorker: 0 }), {
    name: "RangeError",
    message: /'maxTasksPerWorker' must be an integer >= 1: current value is 0/,
  });
});

Deno.test("new ThreadPoolExecutor() throws RangeError for idleTimeout -1", () => {
  assert.throws(() => new ThreadPoolExecutor({ idleTimeout: -1 }), {
    name: "RangeError",
    message: /'idleTimeout' must be >= 0: current value is -1/,
  });
});

Deno.test("new ThreadPoolExecutor() throws TypeError for name 5", () => {
  // @ts-expect-error: a number is not a string
  assert.throws(() => new ThreadPoolExecutor({ name: 5 }), {
    name: "TypeError",
    message: /'name' must be a string: current value is 5 \(number\)/,
  });
});

Deno.test('new ThreadPoolExecutor() throws TypeError for initargs "x"', () => {
  // @ts-expect-error: a string is not an array
  assert.throws(() => new ThreadPoolExecutor({ initargs: "x" }), {
    name: "TypeError",
    message: /'initargs' must be an array: current value is "x" \(string\)/,
  });
});

Deno.test("new ThreadPoolExecutor() throws TypeError for an initializer that is not a function", () => {
  // @ts-expect-error: a number is not a task
  assert.throws(() => new ThreadPoolExecutor({ initializer: 5 }), {
    name: "TypeError",
    message: /'initializer'/,
  });
});

Deno.test("new ThreadPoolExecutor() throws TypeError for an unknown option maxWorker", () => {
  // @ts-expect-error: a typo
  assert.throws(() => new ThreadPoolExecutor({ maxWorker: 2 }), {
    name: "TypeError",
    message: /'maxWorker' is not an option: the options are maxWorkers,/,
  });
});

Deno.test("new ThreadPoolExecutor() throws TypeError for options that are not an object", () => {
  // @ts-expect-error: not an options object
  assert.throws(() => new ThreadPoolExecutor(4), {
    name: "TypeError",
    message: /'options' must be an object/,
  });
});

// ------------------------------------------------------ program exit

Deno.test("ThreadPoolExecutor lets a program that never calls shutdown() exit soon after its last task", async () => {
  const mod = new URL("../../mod.ts", import.meta.url).href;
  const program = `
import { ThreadPoolExecutor } from ${JSON.stringify(mod)};
const pool = new ThreadPoolExecutor({ maxWorkers: 2 });
const futures = [1, 2, 3].map((n) => pool.submit((x) => x * 2, n));
const results = [];
for (const future of futures) results.push(await future.result());
for await (const r of pool.map((x) => x + 1, [10, 20])) results.push(r);
console.log(JSON.stringify({ results, at: Date.now() }));
`;
  const file = await Deno.makeTempFile({ suffix: ".js" });
  try {
    await Deno.writeTextFile(file, program);
    const controller = new AbortController();
    const start = Date.now();
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", file],
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
      signal: controller.signal,
    }).output();
    let output: Deno.CommandOutput;
    try {
      output = await deadline(child, 30_000, "the child program");
    } catch (error) {
      controller.abort();
      await child.catch(() => {});
      throw error;
    }
    const exited = Date.now();
    const stderr = new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 0, stderr);
    const { results, at } = JSON.parse(
      new TextDecoder().decode(output.stdout),
    );
    assert.deepEqual(results, [2, 4, 6, 11, 21]);
    // The default idleTimeout is about a second.
    assert.ok(exited - start < 5000, `ran for ${exited - start} ms`);
    assert.ok(exited - at < 3000, `exited ${exited - at} ms after its work`);
  } finally {
    await Deno.remove(file);
  }
});
