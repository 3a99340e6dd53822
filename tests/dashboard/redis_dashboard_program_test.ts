// The Redis dashboard program's command line and life
// (executor/redis/_dashboard/program.ts), run in-process so the sanitizers
// see everything it leaves: bad flags named, a ready line, a stop request
// that closes the server, the reads and the connection.
import assert from "node:assert/strict";
import {
  type DashboardProgramIo,
  parseDashboardArgs,
  runDashboard,
} from "../../executor/redis/_dashboard/program.ts";
import { deadline } from "../_deadline.ts";
import { requireRedis, startRedis } from "../executor/redis/_redis_server.ts";
import { WAIT_MS } from "../executor/redis/_cluster.ts";

Deno.test("parseDashboardArgs() names the flag of a bad value or an unknown flag", () => {
  const cases: [string[], RegExp][] = [
    [["--port", "http"], /--port must be an integer from 0 to 65535/],
    [["--port", "70000"], /--port must be an integer from 0 to 65535/],
    [["--url", "http://x"], /--url must be a redis:\/\/ or rediss:\/\/ URL/],
    [["--queue", ""], /--queue must not be empty/],
    [["--token="], /--token must not be empty/],
    [["--connect-timeout", "-1"], /--connect-timeout must be a number/],
    [["--port"], /--port needs a value/],
    [["--prot", "1"], /Unknown flag --prot/],
  ];
  for (const [args, message] of cases) {
    assert.throws(() => parseDashboardArgs(args), message, args.join(" "));
  }
  assert.deepEqual(
    parseDashboardArgs([
      "--url=redis://127.0.0.1:1",
      "--queue",
      "jobs",
      "--port",
      "0",
      "--hostname",
      "0.0.0.0",
      "--token",
      "s3cret",
    ]),
    {
      url: "redis://127.0.0.1:1",
      queue: "jobs",
      port: 0,
      hostname: "0.0.0.0",
      token: "s3cret",
      connectTimeout: 10_000,
    },
  );
  assert.equal(parseDashboardArgs(["--help"]), undefined);
});

// Lines it says, and a stop request the test makes.
function testIo() {
  const lines: string[] = [];
  const errors: string[] = [];
  const listeners = new Set<() => void>();
  const said = Promise.withResolvers<string>();
  const io: DashboardProgramIo = {
    onStop(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    log(line) {
      lines.push(line);
      said.resolve(line);
    },
    error(line) {
      errors.push(line);
    },
  };
  return {
    io,
    lines,
    errors,
    said: said.promise,
    stop: () => listeners.forEach((listener) => listener()),
    listening: () => listeners.size,
  };
}

Deno.test("runDashboard() exits 2 naming a bad flag, before it listens", async () => {
  const { io, errors } = testIo();
  assert.equal(await runDashboard(["--port", "x"], io), 2);
  assert.match(errors[0], /--port/);
});

Deno.test({
  name:
    "runDashboard() says it is ready with its URL, serves the queue, and a stop request closes everything",
  ignore: !requireRedis(),
  async fn() {
    await using redis = await startRedis();
    const t = testIo();
    const exited = runDashboard([
      "--url",
      redis.url,
      "--queue",
      "jobs",
      "--port",
      "0",
    ], t.io);
    const line = await deadline(t.said, WAIT_MS, "the ready line");
    const url = line.match(/ready: (http:\/\/127\.0\.0\.1:\d+\/)$/)?.[1];
    assert.ok(url !== undefined, line);
    const snapshot = await fetch(new URL("/api/snapshot", url))
      .then((response) => response.json());
    assert.equal(snapshot.title, "Redis queue jobs");
    t.stop();
    assert.equal(await deadline(exited, WAIT_MS, "the program's end"), 0);
    assert.equal(t.listening(), 0);
    await assert.rejects(fetch(url), TypeError);
  },
});

Deno.test({
  name:
    "runDashboard() exits 1 naming the queue and URL when Redis is not there",
  ignore: !requireRedis(),
  async fn() {
    const t = testIo();
    const code = await runDashboard([
      "--url",
      "redis://127.0.0.1:1",
      "--port",
      "0",
      "--connect-timeout",
      "300",
    ], t.io);
    assert.equal(code, 1);
    assert.match(
      t.errors[0],
      /Cannot read queue concurrent-futures at redis:\/\/127\.0\.0\.1:1/,
    );
  },
});
