// Faults inside tasks: each fails only its own future, promptly; the worker
// is replaced, queued tasks complete and the pool takes new work.
import assert from "node:assert/strict";
import {
  BrokenExecutorError,
  ThreadPoolExecutor,
  TimeoutError,
} from "../../mod.ts";
import { deadline } from "../_deadline.ts";
import { runProgram } from "../_program.ts";
import { countWorkers } from "./_worker_count.ts";

const PROMPT_MS = 1000;

type Crash = () => unknown;
const crashes: Record<string, Crash> = {
  "an uncaught error in a timer": () => {
    setTimeout(() => {
      throw new Error("timer boom");
    });
    return new Promise(() => {});
  },
  "an unhandled rejection": () => {
    Promise.reject(new Error("rejected"));
    return new Promise(() => {});
  },
  "self.close()": () => {
    self.close();
    return new Promise(() => {});
  },
  "close()": () => {
    close();
    return new Promise(() => {});
  },
  "Deno.exit(3)": () => Deno.exit(3),
};

for (const [what, crash] of Object.entries(crashes)) {
  for (const maxWorkers of [1, 2]) {
    Deno.test(`ThreadPoolExecutor fails a task with ${what} with BrokenExecutorError (maxWorkers ${maxWorkers})`, async () => {
      using workers = countWorkers();
      await using pool = new ThreadPoolExecutor({ maxWorkers });
      const before = [1, 2, 3].map((n) =>
        pool.submit((x: number) => x * 10, n)
      );
      const crashed = pool.submit(crash);
      const after = [4, 5, 6].map((n) =>
        pool.submit(async (x: number) => {
          await new Promise((r) => setTimeout(r, 1));
          return x * 10;
        }, n)
      );
      await assert.rejects(
        deadline(crashed.result(), PROMPT_MS, `the task with ${what}`),
        (e) =>
          e instanceof BrokenExecutorError &&
          /died under the task/.test(e.message),
      );
      const values = await deadline(
        Promise.all([...before, ...after].map((f) => f.result())),
        PROMPT_MS,
        "the queued tasks",
      );
      assert.deepEqual(values, [10, 20, 30, 40, 50, 60]);
      // New work that needs every worker at once (each task waits a
      // little, so none is sent ahead to a busy worker): the pool must have
      // started a worker in the crashed one's place, whichever worker the
      // queued tasks happened to run on.
      assert.deepEqual(
        await deadline(
          Promise.all(
            Array.from({ length: maxWorkers }, () =>
              pool.submit(async () => {
                await new Promise((r) => setTimeout(r, 20));
                return "still here";
              }).result()),
          ),
          PROMPT_MS,
          "new work",
        ),
        Array(maxWorkers).fill("still here"),
      );
      // Before shutdown: the crashed worker alone was retired, and one
      // worker started in its place.
      assert.equal(workers.terminated, 1, "the crashed worker was retired");
      assert.equal(
        workers.started,
        maxWorkers + 1,
        "the crashed worker was replaced",
      );
      await pool.shutdown();
      assert.equal(workers.started, workers.terminated, "no worker left alive");
    });
  }
}

Deno.test("ThreadPoolExecutor keeps every quick result buffered before a crash, exactly once", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  await pool.submit(() => 0).result();
  // Each task counts its runs in shared memory: a task run twice would show.
  const runs = new Int32Array(new SharedArrayBuffer(50 * 4));
  const quick = Array.from(
    { length: 50 },
    (_, i) =>
      pool.submit(
        (n: number, counts: Int32Array) => {
          Atomics.add(counts, n, 1);
          return n;
        },
        i,
        runs,
      ),
  );
  const crashed = pool.submit(() => {
    setTimeout(() => {
      throw new Error("boom");
    });
    return new Promise(() => {});
  });
  assert.deepEqual(
    await deadline(
      Promise.all(quick.map((f) => f.result())),
      PROMPT_MS,
      "quick",
    ),
    Array.from({ length: 50 }, (_, i) => i),
  );
  await assert.rejects(
    deadline(crashed.result(), PROMPT_MS, "crash"),
    BrokenExecutorError,
  );
  assert.equal(await pool.submit(() => "next").result(), "next");
  assert.deepEqual([...runs], Array(50).fill(1));
});

Deno.test("ThreadPoolExecutor fails a task that throws with its own error and is not broken", async () => {
  using workers = countWorkers();
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  await assert.rejects(
    pool.submit(() => {
      throw new RangeError("mine");
    }).result(),
    (e) => e instanceof RangeError && e.message === "mine",
  );
  assert.equal(await pool.submit(() => 1).result(), 1);
  assert.equal(workers.started, 1, "the worker was kept");
});

Deno.test("ThreadPoolExecutor fails a stack overflow with RangeError or BrokenExecutorError", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const overflow = pool.submit(function recurse(): number {
    return recurse() + 1;
  });
  await assert.rejects(
    deadline(overflow.result(), 5000, "stack overflow"),
    (e) => e instanceof RangeError || e instanceof BrokenExecutorError,
  );
  assert.equal(
    await deadline(pool.submit(() => 2).result(), PROMPT_MS, "after"),
    2,
  );
});

Deno.test("ThreadPoolExecutor with a throwing initializer is broken: pending and later submits fail, shutdown resolves", async () => {
  const pool = new ThreadPoolExecutor({
    maxWorkers: 2,
    initializer: () => {
      throw new Error("init failed");
    },
  });
  const pending = [1, 2, 3].map((n) => pool.submit((x: number) => x, n));
  for (const future of pending) {
    await assert.rejects(
      deadline(future.result(), PROMPT_MS, "pending task"),
      (e) =>
        e instanceof BrokenExecutorError &&
        (e.cause as Error).message === "init failed",
    );
  }
  assert.throws(() => pool.submit(() => 1), BrokenExecutorError);
  await deadline(pool.shutdown(), PROMPT_MS, "shutdown of a broken pool");
});

Deno.test("ThreadPoolExecutor.shutdown({ wait: false }) lets running and queued tasks settle, then ends every worker", async () => {
  using workers = countWorkers();
  const pool = new ThreadPoolExecutor({ maxWorkers: 2 });
  const futures = [1, 2, 3, 4, 5].map((n) =>
    pool.submit(async (x: number) => {
      await new Promise((r) => setTimeout(r, 20));
      return x;
    }, n)
  );
  await pool.shutdown({ wait: false });
  assert.deepEqual(
    await deadline(
      Promise.all(futures.map((f) => f.result())),
      PROMPT_MS,
      "tasks",
    ),
    [1, 2, 3, 4, 5],
  );
  await deadline(pool.shutdown(), PROMPT_MS, "second shutdown");
  assert.equal(workers.terminated, workers.started);
});

Deno.test("ThreadPoolExecutor.shutdown() while a map is consumed finishes the map", async () => {
  const pool = new ThreadPoolExecutor({ maxWorkers: 2 });
  const results: number[] = [];
  const consuming = (async () => {
    for await (const n of pool.map((x: number) => x + 1, [1, 2, 3, 4])) {
      results.push(n);
    }
  })();
  await deadline(pool.shutdown(), PROMPT_MS, "shutdown");
  await deadline(consuming, PROMPT_MS, "map");
  assert.deepEqual(results, [2, 3, 4, 5]);
});

Deno.test("ThreadPoolExecutor.run() timeout terminates and replaces the worker; other tasks go on", async () => {
  using workers = countWorkers();
  await using pool = new ThreadPoolExecutor({ maxWorkers: 2 });
  const other = pool.submit(async () => {
    await new Promise((r) => setTimeout(r, 100));
    return "other";
  });
  const started = performance.now();
  const stuck = pool.run(() => new Promise(() => {}), [], { timeout: 50 });
  await assert.rejects(
    deadline(stuck.result(), PROMPT_MS, "timeout"),
    TimeoutError,
  );
  const took = performance.now() - started;
  assert.ok(took >= 45 && took < 600, `timed out after ${took} ms`);
  assert.equal(await deadline(other.result(), PROMPT_MS, "other"), "other");
  await deadline(
    workers.terminations(1),
    PROMPT_MS,
    "the stuck worker's termination",
  );
  const after = await Promise.all(
    [1, 2].map((n) => pool.submit((x: number) => x, n).result()),
  );
  assert.deepEqual(after, [1, 2]);
});

// Deno cannot stop a synchronous loop in a Worker (denoland/deno#35657): the
// thread burns on after terminate() and the program cannot exit. So these
// run in a child program, which the test kills.
// deno.json's config: the unstable features the pools need.
const CONFIG = new URL("../../deno.json", import.meta.url).pathname;
const runChild = (source: string, limitMs: number) =>
  runProgram(source, { flags: ["-A", "--config", CONFIG], limitMs });

Deno.test("ThreadPoolExecutor.run() timeout fails an endless sync loop on time; other tasks finish", async () => {
  const { stdout } = await runChild(
    `import { ThreadPoolExecutor } from "MOD";
const pool = new ThreadPoolExecutor({ maxWorkers: 2 });
const started = performance.now();
const loop = pool.run(() => { while (true) {} }, [], { timeout: 100 });
const others = [1, 2, 3].map((n) => pool.submit((x: number) => x * 2, n));
try { await loop.result(); } catch (e) {
  console.log("loop:", (e as Error).name, Math.round(performance.now() - started));
}
console.log("others:", JSON.stringify(await Promise.all(others.map((f) => f.result()))));
console.log("after:", await pool.submit(() => "new work").result());
`,
    5000,
  );
  const match = /loop: TimeoutError (\d+)/.exec(stdout);
  assert.ok(match, stdout);
  assert.ok(Number(match[1]) < 1000, stdout);
  assert.match(stdout, /others: \[2,4,6\]/);
  assert.match(stdout, /after: new work/);
});

Deno.test("ThreadPoolExecutor.run() timeout stops an endless async loop for real: the program exits", async () => {
  const { code, stdout, ms } = await runChild(
    `import { ThreadPoolExecutor } from "MOD";
const pool = new ThreadPoolExecutor({ maxWorkers: 1 });
const loop = pool.run(async () => {
  while (true) await new Promise((r) => setTimeout(r, 1));
}, [], { timeout: 100 });
try { await loop.result(); } catch (e) { console.log("loop:", (e as Error).name); }
await pool.shutdown();
console.log("shut down");
`,
    10_000,
  );
  assert.equal(code, 0, stdout);
  assert.match(stdout, /loop: TimeoutError/);
  assert.match(stdout, /shut down/);
  assert.ok(ms < 8000);
});
