// Labels (SPEC "Labels"): a task with labels runs only on a node that has
// every one of them; a node with labels takes that work before the work any
// node can run; a task no live node can take fails naming its labels after
// unroutableTimeout; stats().nodes shows each live node with its labels.
import assert from "node:assert/strict";
import { BrokenExecutorError, ThreadPoolExecutor } from "../../../mod.ts";
import { RedisExecutor, RedisNode } from "../../../executor/redis/mod.ts";
import { deadline } from "../../_deadline.ts";
import { requireRedis, startRedis } from "./_redis_server.ts";
import { cluster, until, WAIT_MS } from "./_cluster.ts";
import { startNode } from "./_nodes.ts";

const ignore = !requireRedis();

// A thread task's Deno.pid is its node's.
const pid = () => Deno.pid;

Deno.test("labels: a bad node label is a TypeError naming it; a local pool refuses labels, saying why", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  assert.throws(
    () => new RedisNode({ executor: pool, labels: ["ok", "no way"] }),
    (e) => e instanceof TypeError && /"no way"/.test(e.message),
  );
  assert.throws(
    () => pool.run(() => 1, [], { labels: ["gpu"] }),
    (e) =>
      e instanceof TypeError &&
      /labels route tasks across Redis nodes/.test(e.message) &&
      /ThreadPoolExecutor/.test(e.message),
  );
  assert.throws(
    () => pool.map((x: number) => x, [1], { labels: ["gpu"] }),
    (e) =>
      e instanceof TypeError &&
      /labels route tasks across Redis nodes/.test(e.message),
  );
});

Deno.test({
  name:
    "RedisExecutor: a task with labels runs only on a node that has them all; one without runs anywhere",
  ignore,
  async fn() {
    await using c = await cluster([
      { maxWorkers: 2, args: ["--label", "gpu", "--label", "eu"] },
      { maxWorkers: 2 },
      { maxWorkers: 2, args: ["--label", "gpu"] },
    ]);
    const [both, plain, gpuOnly] = c.nodes;
    for (
      const bad of [["gp u"], [""], ["x".repeat(65)], ["a,b"], [7], "gpu"]
    ) {
      assert.throws(
        () => c.executor.run(() => 1, [], { labels: bad as string[] }),
        (e) =>
          e instanceof TypeError && /label|'labels'/.test(e.message) &&
          /Cannot submit/.test(e.message),
        JSON.stringify(bad),
      );
    }
    const gpu = Array.from(
      { length: 60 },
      () => c.executor.run(pid, [], { labels: ["gpu"] }),
    );
    const gpuEu = Array.from(
      { length: 60 },
      () => c.executor.run(pid, [], { labels: ["eu", "gpu", "eu"] }),
    );
    const any = Array.from({ length: 60 }, () => c.executor.submit(pid));
    const pids = async (futures: typeof gpu) =>
      new Set(
        await deadline(
          Promise.all(futures.map((f) => f.result())),
          WAIT_MS,
          "the tasks",
        ),
      );
    const ranGpu = await pids(gpu);
    assert.ok(!ranGpu.has(plain.pid), "no gpu task ran on the plain node");
    assert.ok([...ranGpu].every((p) => p === both.pid || p === gpuOnly.pid));
    assert.deepEqual(await pids(gpuEu), new Set([both.pid]));
    const ranAny = await pids(any);
    assert.ok(ranAny.has(plain.pid), "the plain node ran unlabelled tasks");
    // map routes by labels too, chunked or not.
    for (const chunksize of [1, 7]) {
      const ran = new Set<number>();
      for await (
        const p of c.executor.map(
          (_: number) => Deno.pid,
          Array.from({ length: 30 }, (_, i) => i),
          { labels: ["eu"], chunksize },
        )
      ) ran.add(p);
      assert.deepEqual(ran, new Set([both.pid]), `chunksize ${chunksize}`);
    }
  },
});

Deno.test({
  name:
    "RedisNode with labels takes the tasks that need them before the tasks any node can run",
  ignore,
  async fn() {
    await using c = await cluster([
      { maxWorkers: 1, args: ["--label", "gpu"] },
    ]);
    // The label set is known to the node once a gpu task has run.
    await deadline(
      c.executor.run(() => 0, [], { labels: ["gpu"] }).result(),
      WAIT_MS,
      "the first gpu task",
    );
    const order: string[] = [];
    const slow = (ms: number) =>
      new Promise<number>((resolve) => setTimeout(() => resolve(ms), ms));
    const plain = Array.from({ length: 30 }, (_, i) => {
      const f = c.executor.submit(slow, 60);
      f.addDoneCallback(() => order.push(`plain${i}`));
      return f;
    });
    const gpu = Array.from({ length: 5 }, (_, i) => {
      const f = c.executor.run(slow, [10], { labels: ["gpu"] });
      f.addDoneCallback(() => order.push(`gpu${i}`));
      return f;
    });
    await deadline(
      Promise.all([...plain, ...gpu].map((f) => f.result())),
      WAIT_MS,
      "all tasks",
    );
    const lastGpu = Math.max(...gpu.map((_, i) => order.indexOf(`gpu${i}`)));
    // The plain task running when the gpu ones came finishes first; the
    // gpu ones go next, ahead of the 29 plain ones still queued.
    assert.ok(
      lastGpu <= 5 + 2,
      `the gpu tasks finished at ${lastGpu} of ${order.join(" ")}`,
    );
  },
});

Deno.test({
  name:
    "RedisExecutor: a task whose labels no live node has fails after unroutableTimeout naming them, and runs if such a node comes first",
  ignore,
  async fn() {
    await using c = await cluster([{ maxWorkers: 1 }], {
      unroutableTimeout: 1_500,
    });
    const lost = c.executor.run(() => 1, [], { labels: ["tpu", "us"] });
    const error = await deadline(lost.exception(), WAIT_MS, "the failure");
    assert.ok(error instanceof BrokenExecutorError, String(error));
    assert.match(error.message, /with the labels tpu, us/);
    assert.match(error.message, /unroutableTimeout/);

    await using late = new RedisExecutor({
      url: c.redis.url,
      queue: c.queue,
      unroutableTimeout: 20_000,
    });
    const waiting = late.run(() => "ran", [], { labels: ["tpu"] });
    await c.addNode({ maxWorkers: 1, args: ["--label", "tpu"] });
    assert.equal(
      await deadline(waiting.result(), WAIT_MS, "the late node"),
      "ran",
    );
  },
});

Deno.test({
  name:
    "RedisExecutor.stats().nodes lists each live node: id, labels, workers, busy, completed, failed",
  ignore,
  async fn() {
    await using redis = await startRedis();
    const queue = "stats-nodes";
    await using a = await startNode(redis.url, queue, {
      maxWorkers: 2,
      args: ["--label", "b", "--label", "a"],
    });
    await using b = await startNode(redis.url, queue, { maxWorkers: 1 });
    await using executor = new RedisExecutor({ url: redis.url, queue });
    await deadline(
      Promise.all([
        executor.run(() => 1, [], { labels: ["a"] }).result(),
        executor.run(() => 2, [], { labels: ["a"] }).result(),
        executor.run(
          () => {
            throw new Error("no");
          },
          [],
          { labels: ["b"] },
        ).exception(),
      ]),
      WAIT_MS,
      "the tasks",
    );
    // Nodes announce every second; stats() reads them in the background.
    await until(() => {
      const nodes = executor.stats().nodes;
      return nodes.length === 2 &&
        nodes.some((n) => n.id === a.id && n.completed === 2 && n.failed === 1);
    }, "the nodes' announcements");
    const nodes = executor.stats().nodes.toSorted((x, y) =>
      x.workers - y.workers
    );
    assert.deepEqual(nodes, [
      { id: b.id, labels: [], workers: 1, busy: 0, completed: 0, failed: 0 },
      {
        id: a.id,
        labels: ["a", "b"],
        workers: 2,
        busy: 0,
        completed: 2,
        failed: 1,
      },
    ]);
  },
});
