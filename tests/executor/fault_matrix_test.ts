// Every way a worker can die, at every step of a task's life, in both
// executors: only the task that killed its worker fails, with
// BrokenExecutorError and promptly; every other task settles with its own
// outcome (one that waited behind it runs on a new worker); the pool goes
// on; and no worker is left once it shuts down.
import assert from "node:assert/strict";
import {
  BrokenExecutorError,
  type Executor,
  type Future,
  ProcessPoolExecutor,
  ThreadPoolExecutor,
} from "../../mod.ts";
import { deadline } from "../_deadline.ts";
import { countWorkers } from "./_worker_count.ts";

// Each death is the source of a statement that ends the worker, spliced into
// the tasks below (a task must be self-contained, so it cannot call a
// function of this file).
interface Death {
  name: string;
  source: string;
  // It ends the worker at once (a later one ends it on a later turn).
  sync: boolean;
  // Where it applies: a thread, a process, or both; "web" is a Web Worker
  // thread only (a node:worker_threads one has no `self`).
  on: "web" | "thread" | "process" | "both";
  // It leaves no last words (an outside kill): the pool blames the oldest
  // task it sent, which a batch of results in flight makes ambiguous.
  silent?: boolean;
}

const deaths: Death[] = [
  { name: "Deno.exit(3)", source: "Deno.exit(3)", sync: true, on: "both" },
  { name: "close()", source: "close()", sync: true, on: "both" },
  { name: "self.close()", source: "self.close()", sync: true, on: "web" },
  {
    name: "process.exit(4)",
    source: "globalThis.process.exit(4)",
    sync: true,
    on: "both",
  },
  {
    name: "SIGKILL",
    source: 'Deno.kill(Deno.pid, "SIGKILL")',
    sync: true,
    on: "process",
    silent: true,
  },
  {
    name: "an uncaught error in a timer",
    source: 'setTimeout(() => { throw new Error("timer boom"); })',
    sync: false,
    on: "both",
  },
  {
    name: "an unhandled rejection",
    source: 'Promise.reject(new Error("rejected"))',
    sync: false,
    on: "both",
  },
];

// A task's life, step by step: each builds the task that dies there.
interface Step {
  name: string;
  // The task's source, with DIE where the worker ends.
  source: string;
  // Only for deaths that end the worker at once.
  syncOnly: boolean;
  // Not for silent deaths (see Death.silent).
  spoken?: boolean;
}

const steps: Step[] = [
  {
    name: "while it runs synchronously",
    source: "() => { DIE; return new Promise(() => {}); }",
    syncOnly: false,
  },
  {
    name: "while it runs after an await",
    source:
      "async () => { await new Promise((r) => setTimeout(r, 1)); DIE; return new Promise(() => {}); }",
    syncOnly: false,
  },
  {
    name: "while its result is cloned",
    source: "() => ({ value: 1, get x() { DIE; return 2; } })",
    syncOnly: true,
  },
  {
    name: "while its error is cloned",
    source: "() => { throw { get message() { DIE; return 'never'; } }; }",
    syncOnly: true,
  },
  {
    name: "while its error's cause is cloned",
    source:
      "() => { const e = new Error('outer'); Object.defineProperty(e, 'cause', { get() { DIE; return 1; } }); throw e; }",
    syncOnly: true,
  },
];

const WAIT = 10_000;

function build(source: string, death: Death): () => unknown {
  return (0, eval)(`(${source.replace("DIE", death.source)})`);
}

type Kind = "thread" | "node" | "process";

// Executors with the worker counts a fault test checks.
function executor(
  on: Kind,
  maxWorkers: number,
): { pool: Executor; gone(): void } & Disposable {
  if (on !== "thread") {
    // shutdown() resolves only once every child has exited; a
    // node:worker_threads Worker is not counted by countWorkers.
    const pool = on === "process"
      ? new ProcessPoolExecutor({ maxWorkers })
      : new ThreadPoolExecutor({ maxWorkers, memoryLimit: 1024 });
    return { pool, gone() {}, [Symbol.dispose]() {} };
  }
  const workers = countWorkers();
  const pool = new ThreadPoolExecutor({ maxWorkers });
  return {
    pool,
    gone() {
      assert.equal(workers.started, workers.terminated, "no worker left");
    },
    [Symbol.dispose]: () => workers[Symbol.dispose](),
  };
}

function diedUnder(e: unknown): boolean {
  return e instanceof BrokenExecutorError &&
    /died under the task/.test(e.message);
}

// Makes the pool know `fn` as a quick function, so it sends such tasks
// ahead to a busy worker: they then wait inside it, behind the next task.
// `fn` is called with 100..299 (and `extra` as the second argument).
async function warm(
  pool: Executor,
  fn: (x: number, extra: number) => unknown,
  extra = -1,
) {
  const inputs = Array.from({ length: 200 }, (_, i) => i + 100);
  for await (const _ of pool.map(fn, inputs, inputs.map(() => extra))) {
    // drain
  }
}

// Which worker runs a task: a value each worker keeps in its globals.
const identity = () =>
  (globalThis as { workerIdentity?: number }).workerIdentity ??= Math
    .random();

const quick = (x: number) => x * 10;

const NAMES: Record<Kind, string> = {
  thread: "ThreadPoolExecutor",
  node: "ThreadPoolExecutor (memoryLimit)",
  process: "ProcessPoolExecutor",
};

for (const on of ["thread", "node", "process"] as const) {
  const name = NAMES[on];
  const here = deaths.filter((d) =>
    d.on === "both" || d.on === (on === "process" ? "process" : "thread") ||
    (d.on === "web" && on === "thread")
  );

  for (const death of here) {
    for (const step of steps) {
      if (step.syncOnly && !death.sync) continue;
      Deno.test(`${name}: ${death.name} ${step.name} fails that task alone`, async () => {
        using ex = executor(on, 2);
        const { pool } = ex;
        const before = [1, 2, 3].map((n) => pool.submit(quick, n));
        const killer = pool.submit(build(step.source, death));
        const after = [4, 5, 6].map((n) =>
          pool.submit(async (x: number) => {
            await new Promise((r) => setTimeout(r, 1));
            return x * 10;
          }, n)
        );
        await assert.rejects(
          deadline(killer.result(), WAIT, "the killer"),
          diedUnder,
        );
        assert.deepEqual(
          await deadline(
            Promise.all([...before, ...after].map((f) => f.result())),
            WAIT,
            "the other tasks",
          ),
          [10, 20, 30, 40, 50, 60],
        );
        assert.equal(
          await deadline(pool.submit(() => "new").result(), WAIT, "new work"),
          "new",
        );
        await deadline(pool.shutdown(), WAIT, "shutdown");
        ex.gone();
      });
    }

    Deno.test(`${name}: ${death.name} before a task waiting in the same worker starts runs that task on a new worker`, async () => {
      // The pool sends `quick` ahead to the busy worker only while its
      // measured call time is under 0.1 ms; one call slowed by a loaded
      // machine can undo that, so the case is tried again on a new pool.
      for (let attempt = 1;; attempt++) {
        using ex = executor(on, 1);
        const { pool } = ex;
        await warm(pool, quick);
        const killer = pool.submit(
          build("() => { DIE; return new Promise(() => {}); }", death),
        );
        const waiting = pool.submit(quick, 7);
        await null;
        const sentAhead = waiting.running();
        await assert.rejects(
          deadline(killer.result(), WAIT, "the killer"),
          diedUnder,
        );
        assert.equal(await deadline(waiting.result(), WAIT, "waiting"), 70);
        await deadline(pool.shutdown(), WAIT, "shutdown");
        ex.gone();
        if (sentAhead) break;
        assert.ok(attempt < 3, "precondition: never sent to the busy worker");
      }
    });

    if (!death.sync || death.silent) continue;
    Deno.test(`${name}: ${death.name} between batched results delivers the results before it and runs those after it`, async () => {
      using ex = executor(on, 1);
      const { pool } = ex;
      const task = (0, eval)(
        `((n, die) => { if (n === die) { ${death.source}; } return n * 10; })`,
      ) as (n: number, die: number) => number;
      await warm(pool, task);
      // One function for all, so they travel and come back in batches.
      const futures = Array.from(
        { length: 60 },
        (_, i) => pool.submit(task, i, 30),
      );
      const outcomes = await deadline(
        Promise.allSettled(futures.map((f) => f.result())),
        WAIT,
        "the batch",
      );
      outcomes.forEach((outcome, i) => {
        if (i === 30) {
          assert.equal(outcome.status, "rejected");
          assert.ok(diedUnder((outcome as PromiseRejectedResult).reason));
        } else {
          assert.deepEqual(outcome, { status: "fulfilled", value: i * 10 });
        }
      });
      await deadline(pool.shutdown(), WAIT, "shutdown");
      ex.gone();
    });
  }

  Deno.test(`${name}: values that cannot be cloned halfway through a batch fail only their own tasks, and the worker is kept`, async () => {
    using ex = executor(on, 1);
    const { pool } = ex;
    const task = (n: number) => {
      if (n === 20) return Symbol("not cloneable");
      if (n === 25) {
        return {
          get x() {
            throw new RangeError("getter");
          },
        };
      }
      if (n === 30) return () => "a function";
      return { n };
    };
    await warm(pool, task);
    const worker = await pool.submit(identity).result();
    const futures: Future<unknown>[] = Array.from(
      { length: 60 },
      (_, i) => pool.submit(task, i),
    );
    const outcomes = await deadline(
      Promise.allSettled(futures.map((f) => f.result())),
      WAIT,
      "the batch",
    );
    outcomes.forEach((outcome, i) => {
      const reason = (outcome as PromiseRejectedResult).reason;
      if (i === 20 || i === 30) {
        assert.equal(reason?.name, "DataCloneError", `task ${i}`);
      } else if (i === 25) {
        assert.ok(reason instanceof RangeError, `task ${i}`);
        assert.equal(reason.message, "getter");
      } else {assert.deepEqual(outcome, {
          status: "fulfilled",
          value: { n: i },
        });}
    });
    assert.equal(await pool.submit(identity).result(), worker, "same worker");
    await deadline(pool.shutdown(), WAIT, "shutdown");
    ex.gone();
  });
}

for (const on of ["thread", "node", "process"] as const) {
  const name = NAMES[on];
  Deno.test(`${name}: two tasks of one batch that end their worker (one as its result is cloned) fail alone, and the rest settle`, async () => {
    using ex = executor(on, 1);
    const { pool } = ex;
    const task = (n: number, kind: number) => {
      if (n === 10 && kind === 1) {
        return {
          get x() {
            return Deno.exit(1);
          },
        };
      }
      if (n === 20 && kind === 1) Deno.exit(2);
      return n;
    };
    await warm(pool, task, 0);
    const futures = Array.from(
      { length: 40 },
      (_, i) => pool.submit(task, i, 1),
    );
    const outcomes = await deadline(
      Promise.allSettled(futures.map((f) => f.result())),
      WAIT,
      "the batch",
    );
    outcomes.forEach((outcome, i) => {
      if (i === 10 || i === 20) {
        assert.ok(
          (outcome as PromiseRejectedResult).reason instanceof
            BrokenExecutorError,
          `task ${i}: ${JSON.stringify(outcome)}`,
        );
      } else assert.deepEqual(outcome, { status: "fulfilled", value: i });
    });
    await deadline(pool.shutdown(), WAIT, "shutdown");
    ex.gone();
  });
}
