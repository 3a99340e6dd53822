// Task graphs and retries on a RedisExecutor, with real nodes: a dependent
// task is written to Redis only once its dependencies are done; futures of
// other executors are arguments too; a task that fails runs again, also
// when its node was SIGKILLed under a dependency.
import assert from "node:assert/strict";
import {
  CancelledError,
  Future,
  reportProgress,
  ThreadPoolExecutor,
} from "../../../mod.ts";
import { deadline } from "../../_deadline.ts";
import { requireRedis } from "./_redis_server.ts";
import {
  cluster,
  firstProgress,
  markers,
  rawClient,
  WAIT_MS,
} from "./_cluster.ts";

const ignore = !requireRedis();

Deno.test({
  name:
    "RedisExecutor: a diamond of dependent tasks runs each once; a dependent task has no entry in the queue while it waits",
  ignore,
  async fn() {
    await using c = await cluster([{ maxWorkers: 2 }]);
    await using raw = await rawClient(c.redis.url);
    const gate = new Future<number>();
    const a = c.executor.submit((x: number) => x + 1, gate);
    const b = c.executor.submit((x: number) => x * 10, a);
    const d = c.executor.submit((x: number, y: number) => x + y, a, b);
    // Nothing of them is in Redis while the gate is shut.
    assert.equal(await raw.command(["XLEN", c.queue]), 0);
    assert.equal(c.executor.stats().queued, 0);
    gate.setResult(1);
    assert.equal(await deadline(d.result(), WAIT_MS, "the diamond"), 2 + 20);
    assert.equal(c.executor.stats().completed, 3);
  },
});

Deno.test({
  name:
    "RedisExecutor: a failed dependency fails its dependents with the same error; a cancelled one cancels them",
  ignore,
  async fn() {
    await using c = await cluster([{ maxWorkers: 1 }]);
    const root = c.executor.submit(() => {
      throw new RangeError("root", { cause: "why" });
    });
    const last = c.executor.submit(
      (x: unknown) => x,
      c.executor.submit((x: unknown) => x, root),
    );
    const rootError = await deadline(root.exception(), WAIT_MS, "root");
    assert.equal(await deadline(last.exception(), WAIT_MS, "last"), rootError);
    assert.ok(rootError instanceof RangeError);
    assert.equal(rootError.cause, "why");
    const gate = new Future<number>();
    const dependent = c.executor.submit((x: number) => x, gate);
    gate.cancel();
    await assert.rejects(
      deadline(dependent.result(), WAIT_MS, "dependent"),
      CancelledError,
    );
  },
});

Deno.test({
  name:
    "RedisExecutor: a thread pool's future is an argument of a Redis task, and the other way round",
  ignore,
  async fn() {
    await using c = await cluster([{ maxWorkers: 1 }]);
    await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
    const local = pool.submit(() => 20);
    const remote = c.executor.submit((x: number) => x + 1, local);
    const back = pool.submit((x: number) => x * 2, remote);
    assert.equal(await deadline(back.result(), WAIT_MS, "back"), 42);
  },
});

Deno.test({
  name:
    "RedisExecutor.run() retries a thrown error on the nodes, and shutdown() waits for the retries",
  ignore,
  async fn() {
    await using runs = await markers();
    await using c = await cluster([{ maxWorkers: 1, permissions: "inherit" }]);
    const flaky = async (dir: string) => {
      const before = [...Deno.readDirSync(dir)].length;
      await Deno.writeTextFile(`${dir}/${before}`, "");
      if (before < 2) throw new Error(`run ${before} failed`);
      return before;
    };
    const task = c.executor.run(flaky, [runs.dir], {
      retries: 2,
      retryDelay: 50,
    });
    const closing = c.executor.shutdown();
    assert.equal(await deadline(task.result(), WAIT_MS, "retried"), 2);
    await deadline(closing, WAIT_MS, "shutdown");
    assert.equal(runs.runs().length, 3);
    assert.equal(c.executor.stats().retried, 2);
  },
});

Deno.test({
  name:
    "RedisExecutor: a node SIGKILLed under a dependency: the dependency runs again elsewhere and its dependent completes",
  ignore,
  async fn() {
    await using runs = await markers();
    const inherit = { maxWorkers: 1, permissions: "inherit" as const };
    await using c = await cluster([inherit, inherit], { lease: 800 });
    const dependency = c.executor.submit(async (dir: string) => {
      reportProgress("started");
      await Deno.writeTextFile(`${dir}/${Deno.pid}`, "");
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      return Deno.pid;
    }, runs.dir);
    const dependent = c.executor.submit(
      (pid: number) => `ran after ${pid}`,
      dependency,
    );
    await firstProgress(dependency, "the dependency's start");
    const [first] = await runs.waitFor(1, "the first run");
    const victim = c.nodes.find((node) => node.pid === Number(first))!;
    victim.kill("SIGKILL");
    await victim.exited;
    const survivor = c.nodes.find((node) => node !== victim)!;
    assert.equal(
      await deadline(dependent.result(), WAIT_MS, "the dependent"),
      `ran after ${survivor.pid}`,
    );
  },
});
