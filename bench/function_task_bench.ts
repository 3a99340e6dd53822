// A self-contained function task against the same code as a module task:
// fib(30) through a helper function nested in the task, as README advises
// for helpers. A function task's source is compiled in the worker; sloppy
// code ran this 1.3-1.6x slower than the module (strict) until function
// tasks were compiled as strict code. Floor: the module task.
import { fromModule, ThreadPoolExecutor } from "../mod.ts";

const GROUP = "fib(30) through a nested helper, 1 worker";
const N = 30;
const tasks = fromModule<typeof import("./fixtures/nested_fib.ts")>(
  new URL("./fixtures/nested_fib.ts", import.meta.url),
);

const nestedFib = (n: number): number => {
  function fib(k: number): number {
    return k < 2 ? k : fib(k - 1) + fib(k - 2);
  }
  return fib(n);
};

let pool: ThreadPoolExecutor | undefined;
async function warm(): Promise<ThreadPoolExecutor> {
  if (pool === undefined) {
    pool = new ThreadPoolExecutor({ maxWorkers: 1 });
    // Compiled, imported and optimized before the first timed run.
    for (let i = 0; i < 3; i++) {
      await pool.submit(tasks.nestedFib, 25).result();
      await pool.submit(nestedFib, 25).result();
    }
  }
  return pool;
}

Deno.bench({
  name: "module task (fromModule)",
  group: GROUP,
  baseline: true,
  n: 20,
  warmup: 3,
  async fn() {
    await (await warm()).submit(tasks.nestedFib, N).result();
  },
});

Deno.bench({
  name: "function task",
  group: GROUP,
  n: 20,
  warmup: 3,
  async fn() {
    await (await warm()).submit(nestedFib, N).result();
  },
});

Deno.bench({
  name: "(teardown)",
  n: 1,
  warmup: 0,
  async fn() {
    await pool?.shutdown();
    pool = undefined;
  },
});
