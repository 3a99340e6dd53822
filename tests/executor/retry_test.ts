// Retries (executor/_base/retry.ts, deferred.ts, chunk_run.ts): a task that
// fails runs again, as `retries`, `retryIf` and `retryDelay` say; a cancel
// or an aborted signal never does.
import assert from "node:assert/strict";
import {
  BrokenExecutorError,
  type MapOptions,
  ProcessPoolExecutor,
  ThreadPoolExecutor,
  TimeoutError,
} from "../../mod.ts";
import { deadline } from "../_deadline.ts";
import { executors } from "./_executors.ts";

const WAIT = 30_000;

// Fails until its worker has run it `times` times (workers keep globals),
// then returns how many runs it took.
function flaky(times: number): number {
  const g = globalThis as { runs?: number };
  g.runs = (g.runs ?? 0) + 1;
  if (g.runs <= times) throw new Error(`run ${g.runs} failed`);
  return g.runs;
}

for (const { name, make } of executors) {
  Deno.test(`${name}.run() retries a thrown error up to 'retries' times, and counts each re-run in stats().retried`, async () => {
    await using pool = make({ maxWorkers: 1 });
    const ok = pool.run(flaky, [2], { retries: 2 });
    assert.equal(await deadline(ok.result(), WAIT, "retried task"), 3);
    const stats = (pool as ThreadPoolExecutor).stats();
    assert.equal(stats.retried, 2);
    assert.equal(stats.failed, 2);
    assert.equal(stats.completed, 1);
    // One retry too few: the last error is the future's.
    const g = pool.submit(() => (globalThis as { runs?: number }).runs = 0);
    await deadline(g.result(), WAIT, "reset");
    const failed = pool.run(flaky, [3], { retries: 2 });
    const error = await deadline(failed.exception(), WAIT, "failed task");
    assert.match(String(error), /run 3 failed/);
  });
}

Deno.test("ThreadPoolExecutor.run() without retries runs a failing task once (Python's rule)", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const error = await deadline(
    pool.run(flaky, [1]).exception(),
    WAIT,
    "the task",
  );
  assert.match(String(error), /run 1 failed/);
  assert.equal(pool.stats().retried, 0);
});

Deno.test("ThreadPoolExecutor.run() retries a worker's death and a timeout, as failures like any other", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  // A new worker each time: its globals do not carry over, so the file does.
  const dir = await Deno.makeTempDir();
  try {
    const dies = (dir: string) => {
      const marks = [...Deno.readDirSync(dir)].length;
      Deno.writeTextFileSync(`${dir}/${marks}`, "");
      if (marks === 0) Deno.exit(3);
      return marks;
    };
    assert.equal(
      await deadline(
        pool.run(dies, [dir], { retries: 1 }).result(),
        WAIT,
        "death",
      ),
      1,
    );
    const slow = async (dir: string) => {
      const marks = [...Deno.readDirSync(dir)].length;
      Deno.writeTextFileSync(`${dir}/${marks}`, "");
      if (marks === 2) await new Promise(() => {});
      return marks;
    };
    const timed = pool.run(slow, [dir], { retries: 1, timeout: 300 });
    assert.equal(await deadline(timed.result(), WAIT, "timeout"), 3);
    assert.equal(pool.stats().retried, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ThreadPoolExecutor.run() with retryIf false fails at once, with retryIf's view of the error", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const seen: unknown[] = [];
  const task = pool.run(
    () => {
      throw new TypeError("not worth it");
    },
    [],
    {
      retries: 5,
      retryIf: (error) => {
        seen.push(error);
        return !(error instanceof TypeError);
      },
    },
  );
  const error = await deadline(task.exception(), WAIT, "task");
  assert.ok(error instanceof TypeError);
  assert.equal(seen.length, 1);
  assert.equal(seen[0], error);
  assert.equal(pool.stats().retried, 0);
});

Deno.test("ThreadPoolExecutor.run() does not retry a task whose signal aborted; the future stays running between attempts", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const controller = new AbortController();
  const task = pool.run(() => new Promise(() => {}), [], {
    retries: 3,
    signal: controller.signal,
  });
  await new Promise((resolve) => setTimeout(resolve, 0));
  const reason = new Error("stop");
  controller.abort(reason);
  assert.equal(await deadline(task.exception(), WAIT, "aborted"), reason);
  assert.equal(pool.stats().retried, 0);
  // Between attempts (in retryIf, before the delay) the future is running.
  const states: string[] = [];
  const between = pool.run(flaky, [1], {
    retries: 1,
    retryDelay: 50,
    retryIf: () => {
      states.push(between.state);
      return true;
    },
  });
  assert.equal(await deadline(between.result(), WAIT, "between"), 2);
  assert.deepEqual(states, ["running"]);
});

Deno.test("ThreadPoolExecutor.run() waits retryDelay before the first retry, doubled (±25 %) before the next", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const DELAY = 200;
  const times: number[] = [];
  const task = pool.run(
    () => {
      const g = globalThis as { runs?: number };
      g.runs = (g.runs ?? 0) + 1;
      if (g.runs <= 2) throw new Error("again");
      return g.runs;
    },
    [],
    { retries: 2, retryDelay: DELAY },
  );
  const started = performance.now();
  task.addDoneCallback(() => times.push(performance.now() - started));
  assert.equal(await deadline(task.result(), WAIT, "task"), 3);
  // 200 ±25 % then 400 ±25 %: 450 to 750 ms, plus the runs themselves.
  assert.ok(times[0] >= 0.75 * DELAY * 3, `took ${times[0]} ms`);
  assert.ok(times[0] < 1.25 * DELAY * 3 + 1_000, `took ${times[0]} ms`);
});

Deno.test("ThreadPoolExecutor.map() retries each call; a chunk runs again from the call that failed", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const dir = await Deno.makeTempDir();
  try {
    // Call 3 fails on its first run only; every run leaves a mark.
    const call = (n: number, dir: string) => {
      Deno.writeTextFileSync(`${dir}/${n}-${crypto.randomUUID()}`, "");
      const runs = [...Deno.readDirSync(dir)].filter((e) =>
        e.name.startsWith(`${n}-`)
      ).length;
      if (n === 3 && runs === 1) throw new Error("once");
      return n;
    };
    const got: number[] = [];
    for await (
      const value of pool.map(call, [1, 2, 3, 4, 5], Array(5).fill(dir), {
        chunksize: 5,
        retries: 1,
      })
    ) got.push(value);
    assert.deepEqual(got, [1, 2, 3, 4, 5]);
    const runs = [...Deno.readDirSync(dir)].map((e) => Number(e.name[0]));
    // 1 and 2 ran once; 3 twice; 4 and 5 once (the retry started at 3).
    assert.deepEqual(runs.toSorted(), [1, 2, 3, 3, 4, 5]);
    assert.equal(pool.stats().retried, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Executor.run() and map() reject bad retry options naming them", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const fn = (x: number) => x;
  for (
    const [options, Kind, pattern] of [
      [{ retries: -1 }, RangeError, /'retries' must be an integer >= 0/],
      [{ retries: 1.5 }, RangeError, /'retries' must be an integer >= 0/],
      [{ retries: "2" }, TypeError, /'retries' must be a number/],
      [{ retryIf: true }, TypeError, /'retryIf' must be a function/],
      [
        { retryDelay: -5 },
        RangeError,
        /'retryDelay' must be a finite number >= 0/,
      ],
      [{ retryDelay: "5" }, TypeError, /'retryDelay' must be a number/],
    ] as const
  ) {
    assert.throws(
      () => pool.run(fn, [1], options as never),
      (e) => e instanceof Kind && pattern.test(e.message),
      JSON.stringify(options),
    );
    assert.throws(
      () => pool.map(fn, [1], options as MapOptions),
      (e) => e instanceof Kind && pattern.test(e.message),
    );
  }
});

Deno.test("ProcessPoolExecutor.run() retries a child killed under its task", async () => {
  await using pool = new ProcessPoolExecutor({ maxWorkers: 1 });
  const dir = await Deno.makeTempDir();
  try {
    const killed = (dir: string) => {
      const marks = [...Deno.readDirSync(dir)].length;
      Deno.writeTextFileSync(`${dir}/${marks}`, "");
      if (marks === 0) Deno.kill(Deno.pid, "SIGKILL");
      return marks;
    };
    const task = pool.run(killed, [dir], { retries: 1 });
    assert.equal(await deadline(task.result(), WAIT, "task"), 1);
    const error = await deadline(
      pool.run(killed, [dir + "/none"], { retries: 0 }).exception(),
      WAIT,
      "no dir",
    );
    assert.ok(!(error instanceof BrokenExecutorError));
    assert.ok(!(error instanceof TimeoutError));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
