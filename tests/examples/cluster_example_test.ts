// examples/cluster.ts without redis-server: a loud skip, and under CI=true a
// failure, as the Redis tests (README, "Two commands").
import assert from "node:assert/strict";

const EXAMPLE = new URL("../../examples/cluster.ts", import.meta.url).pathname;
const CONFIG = new URL("../../deno.json", import.meta.url).pathname;

async function run(env: Record<string, string>) {
  const { code, stdout } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--config", CONFIG, EXAMPLE],
    clearEnv: true,
    env: { PATH: "/nonexistent", HOME: Deno.env.get("HOME") ?? "/", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code, stdout: new TextDecoder().decode(stdout) };
}

Deno.test("examples/cluster.ts without redis-server fails under CI=true and skips loudly otherwise", async () => {
  const ci = await run({ CI: "true" });
  assert.equal(ci.code, 1);
  assert.match(
    ci.stdout,
    /FAILED under CI=true, redis-server is not installed/,
  );
  const local = await run({});
  assert.equal(local.code, 0);
  assert.match(local.stdout, /skipped, redis-server is not installed/);
});
