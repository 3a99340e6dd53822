// Chaos across Redis (`deno task stress`, not in the default run): 6,000
// tasks from an executor program through node programs while nodes are
// SIGKILLed at random and replaced, every connection is killed once, and
// Redis itself is SIGKILLed and restarted from its append-only file. Every
// future settles with its value; no task runs twice while the node that ran
// it lives; and at the end every program exits on its own (the executor's
// never calls shutdown()).
import assert from "node:assert/strict";
import { deadline } from "../_deadline.ts";
import { requireRedis, startRedis } from "../executor/redis/_redis_server.ts";
import { rawClient } from "../executor/redis/_cluster.ts";
import { type NodeProcess, startNode } from "../executor/redis/_nodes.ts";

const TASKS = 6_000;
const NODES = 3;
/** Node kills over the run, one every KILL_EVERY_MS. */
const KILLS = 72;
const KILL_EVERY_MS = 150;
/** Short, so that a killed node's tasks come back within the run. */
const LEASE = 2_000;
/** A program must end this soon after its last line. */
const EXIT_MS = 5_000;
const RUN_MS = 300_000;

const CONFIG = new URL("../../deno.json", import.meta.url).pathname;
const REDIS_MOD = new URL("../../executor/redis/mod.ts", import.meta.url).href;

// mulberry32: a small seeded PRNG, so a failure replays.
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// The executor program: submits every task, checks every value, prints
// what it saw and its last line, and never calls shutdown().
const PROGRAM = `
import { RedisExecutor } from "${REDIS_MOD}";
const [url, queue, dir, n] = Deno.args;
const cluster = new RedisExecutor({ url, queue, lease: ${LEASE}, maxAttempts: 50 });
async function work(i: number, dir: string): Promise<number> {
  const at = performance.timeOrigin + performance.now();
  await Deno.writeTextFile(\`\${dir}/\${i}-\${Deno.pid}-\${at}\`, "");
  await new Promise((resolve) => setTimeout(resolve, 5));
  return i * 2;
}
const futures = Array.from({ length: Number(n) }, (_, i) => cluster.submit(work, i, dir));
const wrong: string[] = [];
for (const [i, future] of futures.entries()) {
  try {
    const value = await future.result();
    if (value !== i * 2) wrong.push(\`\${i}: \${value}\`);
  } catch (error) {
    wrong.push(\`\${i}: \${error}\`);
  }
}
console.log(JSON.stringify({ wrong: wrong.slice(0, 20), count: wrong.length }));
console.log("last", performance.timeOrigin + performance.now());
`;

Deno.test({
  name:
    "RedisExecutor chaos: 6,000 tasks while nodes are SIGKILLed and replaced, connections killed, Redis killed and restarted from its AOF",
  ignore: !requireRedis(),
  async fn() {
    const rand = random(Number(Deno.env.get("SEED") ?? 7));
    await using redis = await startRedis({ persist: true });
    const queue = "chaos";
    const dir = await Deno.makeTempDir({ prefix: "redis-chaos-" });
    const file = `${dir}.ts`;
    await Deno.writeTextFile(file, PROGRAM);
    const setup = {
      executor: "thread" as const,
      maxWorkers: 2,
      permissions: "inherit" as const,
      prefetch: 2,
    };
    const live: NodeProcess[] = [];
    const killed = new Set<number>();
    const all: NodeProcess[] = [];
    const starting: Promise<void>[] = [];
    try {
      for (let i = 0; i < NODES; i++) {
        const node = await startNode(redis.url, queue, setup);
        live.push(node);
        all.push(node);
      }
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "--config", CONFIG, file, redis.url, queue, dir]
          .concat(String(TASKS)),
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const output = child.output();
      // Chaos while the tasks run.
      let kills = 0;
      const chaos = (async () => {
        while (kills < KILLS) {
          await new Promise((resolve) => setTimeout(resolve, KILL_EVERY_MS));
          const victim = live.splice(Math.floor(rand() * live.length), 1)[0];
          killed.add(victim.pid);
          victim.kill("SIGKILL");
          await victim.exited;
          kills++;
          // The replacement starts in the background, so nodes come and go.
          starting.push(
            startNode(redis.url, queue, setup).then((node) => {
              live.push(node);
              all.push(node);
            }),
          );
          if (kills === KILLS / 3) {
            await using raw = await rawClient(redis.url);
            await raw.command([
              "CLIENT",
              "KILL",
              "TYPE",
              "normal",
              "SKIPME",
              "yes",
            ]);
          }
          if (kills === (2 * KILLS) / 3) {
            redis.kill("SIGKILL");
            await redis.exited;
            await redis.restart();
          }
          // Never fewer than one node.
          while (live.length === 0) {
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
        }
      })();
      const { code, stdout, stderr } = await deadline(
        output,
        RUN_MS,
        "the executor program",
      );
      const ended = performance.timeOrigin + performance.now();
      await chaos;
      const text = new TextDecoder().decode(stdout);
      assert.equal(code, 0, new TextDecoder().decode(stderr));
      const [summary, last] = text.trim().split("\n");
      const { wrong, count } = JSON.parse(summary);
      assert.equal(count, 0, `wrong or failed: ${wrong.join("; ")}`);
      const after = ended - Number(last.split(" ")[1]);
      assert.ok(after < EXIT_MS, `ended ${after} ms after its last line`);
      // Runs: every run but the last was on a node that was killed.
      const runs = new Map<number, { pid: number; at: number }[]>();
      for (const entry of Deno.readDirSync(dir)) {
        const [i, pid, at] = entry.name.split("-").map(Number);
        runs.set(i, [...runs.get(i) ?? [], { pid, at }]);
      }
      assert.equal(runs.size, TASKS, "every task ran");
      let again = 0;
      for (const [i, list] of runs) {
        list.sort((a, b) => a.at - b.at);
        for (const run of list.slice(0, -1)) {
          again++;
          assert.ok(
            killed.has(run.pid),
            `task ${i} ran again after a run on node ${run.pid}, which lived`,
          );
        }
      }
      console.log(
        `${kills} node kills, a CLIENT KILL and a Redis restart: ${TASKS} tasks right, ${again} ran again after their node was killed`,
      );
      // Every node left alive exits on its own after SIGTERM.
      await Promise.all(starting);
      for (const node of live) assert.equal(await node.stop(), 0);
    } finally {
      await Promise.allSettled(starting);
      for (const node of all) {
        node.kill("SIGKILL");
        await node.exited;
      }
      await Deno.remove(dir, { recursive: true });
      await Deno.remove(file);
    }
  },
});
