// Large values (SPEC "Large values"): an argument or result over inlineLimit
// is stored once under a key of its own, read where it is needed — a
// result on its first result(), or by the node of a task it is passed to,
// never through the submitter — and nothing is left after shutdown().
import assert from "node:assert/strict";
import { ThreadPoolExecutor } from "../../../mod.ts";
import { RedisExecutor } from "../../../executor/redis/mod.ts";
import { deadline } from "../../_deadline.ts";
import { requireRedis } from "./_redis_server.ts";
import { cluster, rawClient, type RawRedis, WAIT_MS } from "./_cluster.ts";

const ignore = !requireRedis();
const MB = 1024 * 1024;

// A field of INFO's reply, as a number.
async function info(raw: RawRedis, field: string): Promise<number> {
  const section = field.startsWith("cmdstat_") ? "commandstats" : "";
  const text = String(await raw.command(["INFO", section || "everything"]));
  const line = text.split("\r\n").find((l) => l.startsWith(`${field}:`));
  if (line === undefined) return 0;
  const value = line.slice(field.length + 1);
  // cmdstat_x:calls=3,usec=…
  const calls = value.match(/^calls=(\d+)/);
  return Number(calls ? calls[1] : value);
}

const valueKeys = (raw: RawRedis, queue: string) =>
  raw.command(["KEYS", `${queue}:values:*`]) as Promise<string[]>;

Deno.test("RedisExecutor() rejects bad inlineLimit, valueTtl and maxValueSize naming them", () => {
  const make = (options: Record<string, unknown>) => () =>
    new RedisExecutor(options as never);
  for (
    const [option, bad, kind] of [
      ["inlineLimit", "64k", TypeError],
      ["inlineLimit", -1, RangeError],
      ["inlineLimit", 1.5, RangeError],
      ["valueTtl", 0, RangeError],
      ["valueTtl", Infinity, RangeError],
      ["maxValueSize", 513 * MB, RangeError],
      ["maxValueSize", Infinity, RangeError],
    ] as const
  ) {
    assert.throws(
      make({ [option]: bad }),
      (e) => e instanceof kind && e.message.includes(`'${option}'`),
      `${option}: ${bad}`,
    );
  }
});

Deno.test({
  name:
    "RedisExecutor: a 100 MB Uint8Array goes to a node and back (stored, not inline), and shutdown() leaves no value key",
  ignore,
  async fn() {
    await using c = await cluster([{ maxWorkers: 1 }]);
    await using raw = await rawClient(c.redis.url);
    const big = new Uint8Array(100 * MB);
    big[0] = 1;
    big[big.length - 1] = 2;
    const future = c.executor.submit((bytes: Uint8Array) => {
      const out = new Uint8Array(bytes.length);
      out[0] = bytes[bytes.length - 1];
      out[out.length - 1] = bytes[0];
      return out;
    }, big);
    const out = await deadline(future.result(), WAIT_MS * 2, "100 MB");
    assert.equal(out.length, 100 * MB);
    assert.deepEqual([out[0], out[out.length - 1]], [2, 1]);
    // The argument and the result each have a key, with a time-to-live.
    const keys = await valueKeys(raw, c.queue);
    assert.equal(keys.length, 2, String(keys));
    for (const key of keys) {
      const ttl = Number(await raw.command(["PTTL", key]));
      assert.ok(ttl > 3_500_000 && ttl <= 3_600_000, `${key}: ttl ${ttl}`);
    }
    await c.executor.shutdown();
    assert.deepEqual(await valueKeys(raw, c.queue), []);
  },
});

Deno.test({
  name:
    "RedisExecutor: 1,000 tasks sharing one 10 MB argument store it once (Redis grows by about 10 MB, not 10 GB) and each node reads it once",
  ignore,
  async fn() {
    await using c = await cluster([], { unroutableTimeout: 20_000 });
    await using raw = await rawClient(c.redis.url);
    const table = new Float64Array(10 * MB / 8).fill(0.5);
    const before = await info(raw, "used_memory");
    const futures = Array.from(
      { length: 1_000 },
      (_, i) =>
        c.executor.submit((t: Float64Array, i: number) => t[i] + i, table, i),
    );
    // All queued, no node yet: what Redis holds for them.
    await deadline(
      (async () => {
        while (Number(await raw.command(["XLEN", c.queue])) < 1_000) {
          await new Promise((r) => setTimeout(r, 20));
        }
      })(),
      WAIT_MS,
      "the 1,000 entries",
    );
    // What Redis keeps: the value once, and 1,000 small entries.
    const [key] = await valueKeys(raw, c.queue);
    const usage = (key: string) =>
      raw.command(["MEMORY", "USAGE", key, "SAMPLES", "0"]).then(Number);
    const value = await usage(key);
    // (10 MB in an allocator size class of 12.)
    assert.ok(value > 10 * MB && value < 13 * MB, `the value: ${value} bytes`);
    const stream = await usage(c.queue);
    assert.ok(stream < 1 * MB, `1,000 entries: ${stream} bytes`);
    // Its total also holds, for a while, the buffer the 10 MB arrived in.
    const grown = await info(raw, "used_memory") - before;
    assert.ok(grown < 40 * MB, `Redis grew ${grown} bytes`);
    assert.equal((await valueKeys(raw, c.queue)).length, 1);
    const sentBefore = await info(raw, "total_net_output_bytes");
    await c.addNode({ maxWorkers: 2 });
    await c.addNode({ maxWorkers: 2 });
    const values = await deadline(
      Promise.all(futures.map((f) => f.result())),
      WAIT_MS,
      "the tasks",
    );
    assert.deepEqual(values.slice(0, 3), [0.5, 1.5, 2.5]);
    // Two nodes, each reading the 10 MB once (plus the small entries).
    const sent = await info(raw, "total_net_output_bytes") - sentBefore;
    assert.ok(sent < 2 * 10 * MB + 4 * MB, `Redis sent ${sent} bytes`);
  },
});

Deno.test({
  name:
    "RedisExecutor: a 50 MB result passed from a task on one node to a task on another never passes through the submitter",
  ignore,
  async fn() {
    await using c = await cluster([
      { maxWorkers: 1, args: ["--label", "a"] },
      { maxWorkers: 1, args: ["--label", "b"] },
    ]);
    await using raw = await rawClient(c.redis.url);
    // The label sets known to the nodes first.
    await Promise.all([
      c.executor.run(() => 0, [], { labels: ["a"] }).result(),
      c.executor.run(() => 0, [], { labels: ["b"] }).result(),
    ]);
    const inBefore = await info(raw, "total_net_input_bytes");
    const outBefore = await info(raw, "total_net_output_bytes");
    const made = c.executor.run(
      () => {
        const bytes = new Uint8Array(50 * 1024 * 1024);
        bytes[7] = 7;
        return bytes;
      },
      [],
      { labels: ["a"] },
    );
    const used = c.executor.run(
      (bytes: Uint8Array) => [bytes.length, bytes[7], Deno.pid],
      [made],
      { labels: ["b"] },
    );
    const [length, seven, pid] = await deadline(used.result(), WAIT_MS, "use");
    assert.deepEqual([length, seven], [50 * MB, 7]);
    assert.equal(pid, c.nodes[1].pid);
    // In: node a's SET (50 MB). Out: node b's read (50 MB). Through the
    // submitter it would be 100 MB each way.
    const bytesIn = await info(raw, "total_net_input_bytes") - inBefore;
    const bytesOut = await info(raw, "total_net_output_bytes") - outBefore;
    assert.ok(bytesIn > 50 * MB && bytesIn < 60 * MB, `in ${bytesIn}`);
    assert.ok(bytesOut > 50 * MB && bytesOut < 60 * MB, `out ${bytesOut}`);
    // The result is read here only when asked for, once.
    assert.equal(await info(raw, "cmdstat_getex"), 1);
    assert.equal((await made.result()).length, 50 * MB);
    assert.equal((await made.result())[7], 7);
    assert.equal(await info(raw, "cmdstat_getex"), 2);
    // And a local pool's task gets the value itself.
    await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
    const local = pool.submit((bytes: Uint8Array) => bytes[7], made);
    assert.equal(await deadline(local.result(), WAIT_MS, "local"), 7);
    await c.executor.shutdown();
    assert.deepEqual(await valueKeys(raw, c.queue), []);
  },
});

Deno.test({
  name:
    "RedisExecutor: a value over maxValueSize is a RangeError naming it — at submit for an argument, as the task's error for a result",
  ignore,
  async fn() {
    await using c = await cluster([{ maxWorkers: 1 }], {
      inlineLimit: 1_000,
      maxValueSize: 100_000,
    });
    assert.throws(
      () =>
        c.executor.submit((b: Uint8Array) => b.length, new Uint8Array(200_000)),
      (e) =>
        e instanceof RangeError && /'maxValueSize' is 100000/.test(e.message),
    );
    // Under the limit but over inlineLimit: stored, and it runs.
    assert.equal(
      await c.executor.submit(
        (b: Uint8Array) => b.length,
        new Uint8Array(50_000),
      )
        .result(),
      50_000,
    );
    const error = await deadline(
      c.executor.submit(() => new Uint8Array(200_000)).exception(),
      WAIT_MS,
      "the big result",
    );
    assert.ok(error instanceof RangeError, String(error));
    assert.match((error as Error).message, /'maxValueSize' is 100000/);
  },
});
