// ThreadPoolExecutor's memoryLimit: a thread past its heap limit fails its
// task with BrokenExecutorError naming the limit, is replaced, and the
// program lives (SPEC "ThreadPoolExecutor memoryLimit").
import assert from "node:assert/strict";
import { ProcessPoolExecutor, ThreadPoolExecutor } from "../../mod.ts";
import { runProgram } from "../_program.ts";

const WAIT = 30_000;

Deno.test("ThreadPoolExecutor() throws TypeError or RangeError naming a bad 'memoryLimit'", () => {
  for (const Executor of [ThreadPoolExecutor, ProcessPoolExecutor]) {
    assert.throws(
      () => new Executor({ memoryLimit: "64" as unknown as number }),
      (e) =>
        e instanceof TypeError &&
        /'memoryLimit' must be a number of MB: current value is "64"/.test(
          e.message,
        ),
    );
    for (const bad of [0, -1, 1.5, NaN]) {
      assert.throws(
        () => new Executor({ memoryLimit: bad }),
        (e) =>
          e instanceof RangeError &&
          /'memoryLimit' must be an integer >= 1/.test(e.message),
        String(bad),
      );
    }
  }
});

Deno.test("ThreadPoolExecutor() with memoryLimit and scoped permissions throws TypeError pointing to ProcessPoolExecutor", () => {
  for (const permissions of ["none", { read: true }] as const) {
    assert.throws(
      () => new ThreadPoolExecutor({ memoryLimit: 64, permissions }),
      (e) =>
        e instanceof TypeError && /'memoryLimit'/.test(e.message) &&
        /ProcessPoolExecutor/.test(e.message),
    );
  }
});

// An out-of-memory that is not contained ends the whole process, so the
// pool runs in a child program.
Deno.test("ThreadPoolExecutor with memoryLimit: 64 survives a task that allocates forever: it fails alone and the next tasks run", async () => {
  const { code, stdout, stderr } = await runProgram(
    `import { ThreadPoolExecutor } from "MOD";
await using pool = new ThreadPoolExecutor({ maxWorkers: 1, memoryLimit: 64 });
const hog = pool.submit(() => {
  const hoard = [];
  for (let i = 0; ; i++) hoard.push({ i, text: "x".repeat(100) + i });
});
const next = pool.submit((x: number) => x * 2, 21);
const error = await hog.exception() as Error;
console.log("hog:", error?.name, error?.message);
console.log("next:", await next.result());
console.log("after:", await pool.submit(() => "alive").result());
`,
    { limitMs: WAIT },
  );
  assert.equal(code, 0, stdout + stderr);
  assert.match(
    stdout,
    /hog: BrokenExecutorError .*ran out of memory \(memoryLimit: 64 MB\)/,
  );
  assert.match(stdout, /next: 42/);
  assert.match(stdout, /after: alive/);
});

Deno.test("ThreadPoolExecutor with memoryLimit lets the program exit after a synchronous loop times out", async () => {
  // A Web Worker stuck in a loop would keep the program alive forever.
  const { code, stdout } = await runProgram(
    `import { ThreadPoolExecutor } from "MOD";
const pool = new ThreadPoolExecutor({ maxWorkers: 1, memoryLimit: 256 });
const loop = pool.run(() => { while (true) {} }, [], { timeout: 200 });
console.log("loop:", (await loop.exception() as Error)?.name);
await pool.shutdown();
console.log("shut down");
`,
    { limitMs: 10_000 },
  );
  assert.equal(code, 0, stdout);
  assert.match(stdout, /loop: TimeoutError\nshut down/);
});

Deno.test("ProcessPoolExecutor with memoryLimit names the limit when a child runs out of memory, and keeps V8's report off the program's stderr", async () => {
  const { code, stdout, stderr } = await runProgram(
    `import { ProcessPoolExecutor } from "MOD";
await using pool = new ProcessPoolExecutor({ maxWorkers: 1, memoryLimit: 48 });
await pool.submit(() => console.error("a task's own line")).result();
const hog = pool.submit(() => {
  const hoard = [];
  while (true) hoard.push(new Array(100_000).fill(1.5));
});
const error = await hog.exception() as Error;
console.log("hog:", error?.name, error?.message);
console.log("after:", await pool.submit(() => "alive").result());
`,
    { limitMs: WAIT },
  );
  assert.equal(code, 0, stdout + stderr);
  assert.match(
    stdout,
    /hog: BrokenExecutorError .*ran out of memory \(memoryLimit: 48 MB\)/,
  );
  assert.match(stdout, /after: alive/);
  // A task's output still reaches stderr; V8's report of the death does not.
  assert.match(stderr, /a task's own line/);
  assert.doesNotMatch(stderr, /Last few GCs|Fatal JavaScript|stack trace/);
});
