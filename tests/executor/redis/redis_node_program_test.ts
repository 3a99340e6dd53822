// The node decides what a task may cost: the node program's permission
// flags (deno run's form), its sandbox importing exactly its allowModules
// hosts, --max-task-time, --memory-limit, and SIGTERM with --grace (a second
// signal stops it at once); RedisNode's maxTaskTime and close({ grace }).
import assert from "node:assert/strict";
import {
  BrokenExecutorError,
  fromModule,
  ProcessPoolExecutor,
  ThreadPoolExecutor,
  TimeoutError,
} from "../../../mod.ts";
import { RedisExecutor, RedisNode } from "../../../executor/redis/mod.ts";
import {
  parseArgs,
  poolPermissions,
} from "../../../executor/redis/_node/program.ts";
import { deadline } from "../../_deadline.ts";
import { requireRedis, startRedis } from "./_redis_server.ts";
import { markers, WAIT_MS } from "./_cluster.ts";
import { startNode } from "./_nodes.ts";

const ignore = !requireRedis();

Deno.test("node program: permission flags take a value after = or a space, or none for the whole permission", () => {
  const parsed = parseArgs([
    "--allow-read=/data,/srv",
    "--allow-read",
    "/tmp",
    "--allow-env",
    "HOME",
    "--allow-net",
    "--queue=jobs",
    "--allow-import=cdn.test",
    "--max-task-time",
    "500",
    "--memory-limit=64",
    "--grace",
    "250",
  ])!;
  assert.deepEqual(parsed.grants, {
    read: ["/data", "/srv", "/tmp"],
    env: ["HOME"],
    net: true,
    import: ["cdn.test"],
  });
  assert.equal(parsed.queue, "jobs");
  assert.equal(parsed.maxTaskTime, 500);
  assert.equal(parsed.memoryLimit, 64);
  assert.equal(parsed.grace, 250);
  assert.deepEqual(poolPermissions(parsed), {
    read: ["/data", "/srv", "/tmp"],
    env: ["HOME"],
    net: true,
    import: ["cdn.test"],
  });
  assert.throws(() => parseArgs(["--grace", "soon"]), /--grace must be/);
  assert.throws(() => parseArgs(["--allow-everything"]), /Unknown flag/);
});

Deno.test("node program: a sandboxed node may import exactly its allowModules hosts and paths", () => {
  const none = parseArgs([
    "--allow-module",
    "http://127.0.0.1:8765/tasks/",
    "--allow-module=file:///srv/tasks/",
  ])!;
  assert.deepEqual(poolPermissions(none), {
    import: ["127.0.0.1:8765"],
    read: ["/srv/tasks/"],
  });
  const bare = parseArgs([])!;
  assert.equal(poolPermissions(bare), "none");
  const inherit = parseArgs(["--permissions", "inherit", "--allow-read"])!;
  assert.equal(poolPermissions(inherit), "inherit");
});

Deno.test("RedisNode() refuses allowModules its executor's sandbox cannot import, naming the grant", async () => {
  await using pool = new ProcessPoolExecutor({ permissions: "none" });
  assert.throws(
    () =>
      new RedisNode({
        executor: pool,
        allowModules: ["https://tasks.test/v1/"],
      }),
    (e) =>
      e instanceof TypeError &&
      /'allowModules' admits https:\/\/tasks\.test\/v1\/ but the executor's workers may not import from there: add import: \["tasks\.test"\]/
        .test(e.message),
  );
  await using allowed = new ProcessPoolExecutor({
    permissions: { import: ["tasks.test"] },
  });
  const node = new RedisNode({
    url: "redis://127.0.0.1:1",
    executor: allowed,
    allowModules: ["https://tasks.test/v1/"],
    connectTimeout: 50,
  });
  assert.throws(
    () => node.close({ grace: -1 }),
    (e) =>
      e instanceof RangeError &&
      /Cannot call RedisNode\.close\(\) as 'grace' must be > 0/.test(e.message),
  );
  await node.ready.catch(() => {});
  await node.close();
  assert.throws(
    () => new RedisNode({ executor: allowed, maxTaskTime: 0 }),
    (e) =>
      e instanceof RangeError && /'maxTaskTime' must be > 0/.test(e.message),
  );
});

// Serves `source` as a JavaScript module on a free 127.0.0.1 port.
function serveModule(source: string): Deno.HttpServer<Deno.NetAddr> & {
  url: string;
} {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () =>
      new Response(source, {
        headers: { "content-type": "application/javascript" },
      }),
  );
  return Object.assign(server, {
    url: `http://127.0.0.1:${server.addr.port}/`,
  });
}

Deno.test({
  name:
    "node program: a sandboxed process node runs a module task from its allowModules host, and reads only what --allow-read names",
  ignore,
  async fn() {
    await using redis = await startRedis();
    await using runs = await markers();
    await Deno.writeTextFile(`${runs.dir}/note`, "readable");
    const server = serveModule("export const triple = (x) => x * 3;");
    try {
      await using _node = await startNode(redis.url, "q", {
        executor: "process",
        maxWorkers: 1,
        allowModules: [server.url],
        args: [`--allow-read=${runs.dir}`],
      });
      await using executor = new RedisExecutor({ url: redis.url, queue: "q" });
      const tasks = fromModule<{ triple(x: number): number }>(
        new URL("task.js", server.url),
      );
      assert.equal(
        await deadline(
          executor.submit(tasks.triple, 14).result(),
          WAIT_MS,
          "module",
        ),
        42,
      );
      const read = (path: string) => Deno.readTextFile(path);
      assert.equal(
        await deadline(
          executor.submit(read, `${runs.dir}/note`).result(),
          WAIT_MS,
          "read",
        ),
        "readable",
      );
      const denied = await deadline(
        executor.submit(read, "/etc/hostname").exception(),
        WAIT_MS,
        "denied",
      );
      assert.ok(denied instanceof Deno.errors.NotCapable, String(denied));
    } finally {
      await server.shutdown();
    }
  },
});

Deno.test({
  name:
    "node program: --max-task-time stops a task past it whatever the submitter asked, and its TimeoutError names the node's limit",
  ignore,
  async fn() {
    await using redis = await startRedis();
    await using _node = await startNode(redis.url, "q", {
      executor: "process",
      maxWorkers: 1,
      args: ["--max-task-time", "500"],
    });
    await using executor = new RedisExecutor({ url: redis.url, queue: "q" });
    const started = performance.now();
    const spin = () => {
      while (true) Math.random();
    };
    const error = await deadline(
      executor.submit(spin).exception(),
      WAIT_MS,
      "the runaway task",
    );
    const took = performance.now() - started;
    assert.ok(error instanceof TimeoutError, String(error));
    assert.match(error.message, /maxTaskTime of 500 ms/);
    assert.ok(took >= 500 && took < 5_000, `stopped after ${took} ms`);
    // The node goes on: its child was killed and replaced.
    assert.equal(
      await deadline(executor.submit(() => 7).result(), WAIT_MS, "next"),
      7,
    );
    // A shorter timeout of the submitter's is its own.
    const own = await deadline(
      executor.run(spin, [], { timeout: 200 }).exception(),
      WAIT_MS,
      "the submitter's timeout",
    );
    assert.ok(own instanceof TimeoutError, String(own));
    assert.doesNotMatch(own.message, /maxTaskTime/);
  },
});

Deno.test({
  name:
    "node program: --memory-limit bounds its process workers' heap; the task fails naming memoryLimit",
  ignore,
  async fn() {
    await using redis = await startRedis();
    await using node = await startNode(redis.url, "q", {
      executor: "process",
      maxWorkers: 1,
      args: ["--memory-limit", "48"],
    });
    await using executor = new RedisExecutor({ url: redis.url, queue: "q" });
    const error = await deadline(
      executor.submit(() => {
        const hoard: number[][] = [];
        while (true) hoard.push(new Array(100_000).fill(1.5));
      }).exception(),
      WAIT_MS,
      "the hog",
    );
    assert.ok(error instanceof BrokenExecutorError, String(error));
    assert.match(error.message, /memoryLimit: 48 MB/);
    assert.equal(
      await deadline(executor.submit(() => 1).result(), WAIT_MS, "next"),
      1,
    );
    assert.doesNotMatch(node.stderr(), /Fatal JavaScript/);
  },
});

// Runs until another node's run: the first run marks the dir and waits for
// ever; a later run (on the node that took it over) returns its pid.
async function untilTakenOver(dir: string): Promise<number> {
  const mine = `${dir}/${Deno.pid}`;
  const others = [...Deno.readDirSync(dir)].filter((e) =>
    e.name !== String(Deno.pid)
  );
  if (others.length > 0) return Deno.pid;
  await Deno.writeTextFile(mine, "");
  return await new Promise<number>(() => {});
}

Deno.test({
  name:
    "node program: SIGTERM gives running tasks --grace ms, then stops them and hands them back: another node runs them before their lease",
  ignore,
  async fn() {
    await using redis = await startRedis();
    await using runs = await markers();
    const setup = {
      maxWorkers: 1,
      permissions: "inherit" as const,
      args: ["--grace", "500"],
    };
    const first = await startNode(redis.url, "q", setup);
    // The lease (30 s) is far longer than the wait below.
    await using executor = new RedisExecutor({ url: redis.url, queue: "q" });
    const future = executor.submit(untilTakenOver, runs.dir);
    await runs.waitFor(1, "the first run");
    const second = await startNode(redis.url, "q", setup);
    const stopped = performance.now();
    first.kill("SIGTERM");
    await first.line(`RedisNode ${first.id} stopping`);
    assert.equal(await deadline(first.exited, WAIT_MS, "the node's exit"), 0);
    const exitedAfter = performance.now() - stopped;
    assert.ok(
      exitedAfter < 500 + 4_000,
      `exited ${exitedAfter} ms after SIGTERM`,
    );
    const pid = await deadline(future.result(), WAIT_MS, "the second run");
    assert.equal(pid, second.pid);
    const tookOver = performance.now() - stopped;
    assert.ok(tookOver < 10_000, `taken over ${tookOver} ms after SIGTERM`);
    await second.stop();
  },
});

Deno.test({
  name: "node program: a second signal stops the node at once",
  ignore,
  async fn() {
    await using redis = await startRedis();
    await using runs = await markers();
    const setup = {
      maxWorkers: 1,
      permissions: "inherit" as const,
      args: ["--grace", "60000"],
    };
    const node = await startNode(redis.url, "q", setup);
    // A short lease, so that the task it dropped is taken over soon.
    await using executor = new RedisExecutor({
      url: redis.url,
      queue: "q",
      lease: 1_000,
    });
    const future = executor.submit(untilTakenOver, runs.dir);
    await runs.waitFor(1, "the first run");
    node.kill("SIGTERM");
    await node.line(`RedisNode ${node.id} stopping`);
    const second = performance.now();
    node.kill("SIGTERM");
    assert.equal(await deadline(node.exited, WAIT_MS, "the exit"), 130);
    assert.ok(performance.now() - second < 2_000);
    // Not handed back: its lease lapses, and another node runs it.
    await using other = await startNode(redis.url, "q", setup);
    assert.equal(
      await deadline(future.result(), WAIT_MS, "takeover"),
      other.pid,
    );
  },
});

Deno.test({
  name:
    "RedisNode.close({ grace }) stops what still runs past it, unanswered, and hands it back for another node",
  ignore,
  async fn() {
    await using redis = await startRedis();
    await using runs = await markers();
    await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
    const node = new RedisNode({ url: redis.url, queue: "q", executor: pool });
    await deadline(node.ready, WAIT_MS, "ready");
    // The lease (30 s) is far longer than the wait below.
    await using executor = new RedisExecutor({ url: redis.url, queue: "q" });
    const future = executor.submit(untilTakenOver, runs.dir);
    await runs.waitFor(1, "the first run");
    const closing = performance.now();
    await deadline(node.close({ grace: 300 }), WAIT_MS, "close");
    const took = performance.now() - closing;
    assert.ok(took >= 290 && took < 3_000, `closed in ${took} ms`);
    // Not answered: the future waits for another node, which takes it now.
    assert.equal(future.done(), false);
    await using other = await startNode(redis.url, "q", {
      maxWorkers: 1,
      permissions: "inherit",
    });
    assert.equal(
      await deadline(future.result(), WAIT_MS, "takeover"),
      other.pid,
    );
    assert.ok(performance.now() - closing < 10_000);
  },
});
