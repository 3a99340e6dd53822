// What a program needs to use Redis: net access to the server, and nothing
// else; without it, construction fails at once with NotCapable naming the
// flag — never a Redis that cannot be reached within connectTimeout.
import assert from "node:assert/strict";
import { runProgram } from "../../_program.ts";
import { requireRedis, startRedis } from "./_redis_server.ts";
import { startNode } from "./_nodes.ts";

const ignore = !requireRedis();
const CONFIG = new URL("../../../deno.json", import.meta.url).pathname;
const REDIS_MOD =
  new URL("../../../executor/redis/mod.ts", import.meta.url).href;

Deno.test({
  name:
    "RedisExecutor and RedisNode without net permission throw NotCapable naming --allow-net at construction",
  async fn() {
    const run = await runProgram(
      `
      import { ThreadPoolExecutor } from "MOD";
      import { RedisExecutor, RedisNode } from "${REDIS_MOD}";
      const url = "redis://127.0.0.1:6390";
      for (const make of [
        () => new RedisExecutor({ url }),
        () => new RedisNode({ url, executor: new ThreadPoolExecutor() }),
      ]) {
        const started = performance.now();
        try {
          make();
          console.log("constructed");
        } catch (error) {
          console.log(
            error instanceof Deno.errors.NotCapable,
            Math.round(performance.now() - started) < 100,
            (error as Error).message,
          );
        }
      }
      `,
      { flags: ["--no-prompt", "--config", CONFIG] },
    );
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.trim().split("\n");
    assert.equal(lines.length, 2, run.stdout);
    for (const line of lines) {
      assert.match(line, /^true true Cannot create Redis(Executor|Node) as/);
      assert.match(line, /--allow-net=127\.0\.0\.1:6390/);
    }
  },
});

Deno.test({
  name:
    "RedisExecutor needs only net permission to its Redis: no env, no read, no prompt",
  ignore,
  async fn() {
    await using redis = await startRedis();
    await using _node = await startNode(redis.url, "q", { maxWorkers: 1 });
    const host = new URL(redis.url).host;
    const run = await runProgram(
      `
      import { RedisExecutor } from "${REDIS_MOD}";
      await using cluster = new RedisExecutor({ url: "${redis.url}", queue: "q" });
      console.log(await cluster.submit((n: number) => n * 2, 21).result());
      `,
      {
        flags: ["--no-prompt", `--allow-net=${host}`, "--config", CONFIG],
      },
    );
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), "42");
  },
});
