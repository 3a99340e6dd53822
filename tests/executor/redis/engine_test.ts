// The Redis Streams engine against a real redis-server of its own per test:
// each operation, binary fidelity, consumer-group semantics, and a server
// that dies and comes back.
import assert from "node:assert/strict";
import {
  type Engine,
  EngineError,
  type EngineOptions,
} from "../../../executor/redis/_engine/engine.ts";
import { connect } from "../../../executor/redis/_engine/connect.ts";
import { decode, encode } from "../../../executor/redis/_wire/codec.ts";
import { fromRecord, toRecord } from "../../../executor/_wire/error_record.ts";
import { deadline } from "../../_deadline.ts";
import { type RedisServer, requireRedis, startRedis } from "./_redis_server.ts";
import { rawClient } from "./_cluster.ts";

const ignore = !requireRedis();
const S = "tasks";
const G = "nodes";
/** Every wait in these tests gives up after this long. */
const WAIT_MS = 10_000;

interface Fixture extends AsyncDisposable {
  redis: RedisServer;
  engine: Engine;
}

async function setup(options: EngineOptions = {}): Promise<Fixture> {
  const redis = await startRedis();
  let engine: Engine;
  try {
    engine = await connect(redis.url, options);
  } catch (error) {
    await redis.stop();
    throw error;
  }
  return {
    redis,
    engine,
    async [Symbol.asyncDispose]() {
      await engine.close();
      await redis.stop();
    },
  };
}

// Retries `attempt` until it returns a value, pausing `pauseMs` between
// tries: for conditions that only time brings about (an entry's idle time).
async function until<T>(
  attempt: () => Promise<T | undefined>,
  what: string,
  pauseMs = 10,
): Promise<T> {
  const giveUp = Date.now() + WAIT_MS;
  while (true) {
    const value = await attempt();
    if (value !== undefined) return value;
    if (Date.now() > giveUp) {
      throw new Error(`${what} did not happen within ${WAIT_MS} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
}

function nextEvent(
  subscribe: (listener: () => void) => () => void,
  what: string,
): Promise<void> {
  const { promise, resolve } = Promise.withResolvers<void>();
  const off = subscribe(() => resolve());
  return deadline(promise, WAIT_MS, what).finally(off);
}

const task = (n: number) => ({ task: encode({ n }) });

Deno.test("requireRedis() without redis-server fails under CI=true and skips loudly otherwise", async () => {
  const helper = new URL("./_redis_server.ts", import.meta.url).href;
  const run = async (env: Record<string, string>) => {
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        `import { requireRedis } from "${helper}";
         console.log(requireRedis(), requireRedis());`,
      ],
      clearEnv: true,
      env: { PATH: "/nonexistent", HOME: Deno.env.get("HOME") ?? "/", ...env },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const decoder = new TextDecoder();
    return {
      code,
      stdout: decoder.decode(stdout),
      stderr: decoder.decode(stderr),
    };
  };
  const ci = await run({ CI: "true" });
  assert.notEqual(ci.code, 0);
  assert.match(ci.stderr, /redis-server not found on PATH under CI=true/);
  const local = await run({});
  assert.equal(local.code, 0);
  assert.equal(local.stdout.trim(), "false false");
  const lines = local.stderr.trim().split("\n");
  assert.deepEqual(lines, [
    "Redis tests SKIPPED: redis-server not found on PATH; install it with `apt-get install redis-server`",
  ]);
});

Deno.test("connect() rejects a malformed url, a non-redis scheme and bad timeouts", async () => {
  await assert.rejects(connect("not a url"), TypeError);
  await assert.rejects(
    connect("http://127.0.0.1:6379"),
    (error: Error) =>
      error instanceof TypeError && error.message.includes("redis://"),
  );
  await assert.rejects(
    connect("redis://127.0.0.1:6379", { commandTimeout: 0 }),
    /'commandTimeout' must be a finite number > 0: current value is 0/,
  );
  await assert.rejects(
    connect("redis://127.0.0.1:6379", { connectTimeout: -1 }),
    RangeError,
  );
});

Deno.test({
  name: "connect() to a port nobody serves rejects within connectTimeout",
  ignore,
  async fn() {
    // A port that was free a moment ago: nothing listens there.
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const { port } = listener.addr as Deno.NetAddr;
    listener.close();
    const started = performance.now();
    await assert.rejects(
      deadline(
        connect(`redis://user:secret@127.0.0.1:${port}`, {
          connectTimeout: 300,
        }),
        WAIT_MS,
        "connect()",
      ),
      (error: Error) => {
        assert.ok(error instanceof EngineError);
        assert.equal(error.kind, "timeout");
        assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
        assert.match(error.message, /ECONNREFUSED/);
        assert.doesNotMatch(error.message, /secret/);
        return true;
      },
    );
    assert.ok(performance.now() - started < 300 + 1000);
  },
});

Deno.test({
  name: "Engine.createGroup() creates the group and stream once",
  ignore,
  async fn() {
    await using f = await setup();
    assert.equal(await f.engine.createGroup(S, G), true);
    assert.equal(await f.engine.createGroup(S, G), false);
    assert.equal(f.engine.up, true);
  },
});

Deno.test({
  name: "Engine.read() delivers entries added before the group existed",
  ignore,
  async fn() {
    await using f = await setup();
    const id = await f.engine.add(S, task(1));
    await f.engine.createGroup(S, G);
    const [entry] = await f.engine.read(S, G, "a", 10, 0);
    assert.equal(entry.id, id);
  },
});

Deno.test({
  name: "Engine.add() and read() round-trip binary values byte for byte",
  ignore,
  async fn() {
    await using f = await setup();
    await f.engine.createGroup(S, G);
    const every = Uint8Array.from({ length: 256 }, (_, i) => i);
    const cause = new RangeError("inner");
    const failure = new Error("outer", { cause });
    failure.name = "CustomError";
    const record = {
      args: [every, new Map([[1n, new Set(["x"])]]), new Date(0), /re/g],
      error: toRecord(failure),
    };
    const id = await f.engine.add(S, {
      task: encode(record),
      raw: every,
      text: "héllo ✓",
      empty: new Uint8Array(0),
    });
    assert.match(id, /^\d+-\d+$/);
    const [entry, ...rest] = await f.engine.read(S, G, "a", 10, 0);
    assert.equal(rest.length, 0);
    assert.equal(entry.id, id);
    assert.equal(entry.deliveries, 1);
    assert.deepEqual(Object.keys(entry.fields), [
      "task",
      "raw",
      "text",
      "empty",
    ]);
    assert.ok(entry.fields.raw instanceof Uint8Array);
    assert.deepEqual(new Uint8Array(entry.fields.raw), every);
    assert.equal(new TextDecoder().decode(entry.fields.text), "héllo ✓");
    assert.equal(entry.fields.empty.byteLength, 0);
    const back = decode<typeof record>(entry.fields.task);
    assert.deepEqual(back.args, record.args);
    const error = fromRecord(back.error) as Error;
    assert.equal(error.name, "CustomError");
    assert.equal(error.message, "outer");
    assert.equal(error.stack, failure.stack);
    assert.ok(error.cause instanceof RangeError);
    assert.equal((error.cause as Error).message, "inner");
  },
});

Deno.test({
  name: "Engine.addMany() appends in order, many entries or few, alike or not",
  ignore,
  async fn() {
    await using f = await setup();
    await f.engine.createGroup(S, G);
    const ids = await f.engine.addMany(
      S,
      Array.from({ length: 500 }, (_, n) => task(n)),
    );
    assert.equal(ids.length, 500);
    const entries = await f.engine.read(S, G, "a", 1000, 0);
    assert.deepEqual(entries.map((entry) => entry.id), ids);
    assert.deepEqual(
      entries.map((entry) => decode<{ n: number }>(entry.fields.task).n),
      Array.from({ length: 500 }, (_, n) => n),
    );
  },
});

// Top-level calls of a command since the server started (INFO
// commandstats; a script's own calls are counted under their commands).
async function calls(url: string, command: string): Promise<number> {
  await using raw = await rawClient(url);
  const text = String(await raw.command(["INFO", "commandstats"]));
  const found = text.match(new RegExp(`cmdstat_${command}:calls=(\\d+)`));
  return found === null ? 0 : Number(found[1]);
}

Deno.test({
  name:
    "Engine.addMany() adds many entries of one shape with a script, a command a chunk, and keeps their bytes and order",
  ignore,
  async fn() {
    await using f = await setup();
    await f.engine.createGroup(S, G);
    const bytes = new Uint8Array(256).map((_, i) => i);
    const records = Array.from(
      { length: 1_200 },
      (_, n) => ({ task: encode({ n }), raw: bytes, lease: String(n) }),
    );
    const scripts = async () =>
      await calls(f.redis.url, "evalsha") + await calls(f.redis.url, "eval");
    const before = await scripts();
    const ids = await f.engine.addMany(S, records);
    // 1,200 entries in chunks of 500: three script calls (each EVALSHA
    // may be followed by an EVAL, on a server that lacks the script).
    const used = await scripts() - before;
    assert.ok(used >= 3 && used <= 6, `${used} script calls`);
    assert.equal(new Set(ids).size, 1_200);
    const entries = await f.engine.read(S, G, "a", 2_000, 0);
    assert.deepEqual(entries.map((entry) => entry.id), ids);
    entries.forEach((entry, n) => {
      assert.equal(decode<{ n: number }>(entry.fields.task).n, n);
      assert.deepEqual(new Uint8Array(entry.fields.raw), bytes);
      assert.equal(new TextDecoder().decode(entry.fields.lease), String(n));
    });
    // Entries of different shapes go one XADD each, in order too.
    const mixed = await f.engine.addMany(S, [
      task(1),
      { ...task(2), extra: "x" },
      task(3),
      task(4),
    ]);
    const again = await f.engine.read(S, G, "a", 10, 0);
    assert.deepEqual(again.map((entry) => entry.id), mixed);
    assert.equal(new TextDecoder().decode(again[1].fields.extra), "x");
  },
});

Deno.test({
  name: "Engine.read() gives two consumers of one group distinct entries",
  ignore,
  async fn() {
    await using f = await setup();
    await using other = await connect(f.redis.url);
    await f.engine.createGroup(S, G);
    const ids = await f.engine.addMany(
      S,
      Array.from({ length: 10 }, (_, n) => task(n)),
    );
    const a = await f.engine.read(S, G, "a", 4, 0);
    const b = await other.read(S, G, "b", 100, 0);
    assert.equal(a.length, 4);
    assert.equal(b.length, 6);
    const seen = [...a, ...b].map((entry) => entry.id);
    assert.equal(new Set(seen).size, 10);
    assert.deepEqual(seen.toSorted(), ids.toSorted());
    assert.deepEqual(await f.engine.read(S, G, "a", 10, 0), []);
  },
});

Deno.test({
  name:
    "Engine.read() blocks until an entry arrives, and returns [] after blockMs",
  ignore,
  async fn() {
    await using f = await setup();
    await f.engine.createGroup(S, G);
    const started = performance.now();
    assert.deepEqual(
      await deadline(f.engine.read(S, G, "a", 10, 50), WAIT_MS, "empty read"),
      [],
    );
    assert.ok(performance.now() - started >= 45);
    const reading = f.engine.read(S, G, "a", 10, WAIT_MS);
    // The blocked read has its own connection: this add is not behind it.
    const id = await deadline(f.engine.add(S, task(1)), WAIT_MS, "add()");
    const [entry] = await deadline(reading, WAIT_MS, "blocked read()");
    assert.equal(entry.id, id);
  },
});

Deno.test({
  name:
    "Engine.read() runs concurrent blocking reads on connections of their own",
  ignore,
  async fn() {
    await using f = await setup();
    await f.engine.createGroup(S, G);
    let downs = 0;
    const off = f.engine.onDown(() => downs++);
    // From "0", not "$": the XADD below may reach Redis before this XREAD.
    const replies = f.engine.readReplies("replies", "0", WAIT_MS);
    const reading = f.engine.read(S, G, "a", 10, WAIT_MS);
    await f.engine.add("replies", { ok: "1" });
    await f.engine.add(S, task(1));
    const [got, read] = await deadline(
      Promise.all([replies, reading]),
      WAIT_MS,
      "both blocked reads",
    );
    assert.equal(got.entries.length, 1);
    assert.equal(read.length, 1);
    // Opening the second blocking connection was no outage.
    off();
    assert.equal(downs, 0);
    assert.equal(f.engine.up, true);
  },
});

Deno.test({
  name:
    "Engine.claimExpired() gives an idle entry to a second consumer with delivery count 2",
  ignore,
  async fn() {
    await using f = await setup();
    await f.engine.createGroup(S, G);
    const id = await f.engine.add(S, task(7));
    const [first] = await f.engine.read(S, G, "a", 1, 0);
    assert.equal(first.deliveries, 1);
    // Not idle long enough yet.
    const early = await f.engine.claimExpired(S, G, "b", {
      leaseField: "lease",
      minIdleMs: 60_000,
      count: 10,
    });
    assert.deepEqual(early, { entries: [], deleted: [] });
    const claimed = await until(async () => {
      const { entries } = await f.engine.claimExpired(S, G, "b", {
        leaseField: "lease",
        minIdleMs: 100,
        count: 10,
      });
      return entries.length > 0 ? entries : undefined;
    }, "claimExpired() of an entry idle for 100 ms");
    assert.equal(claimed.length, 1);
    assert.equal(claimed[0].id, id);
    assert.equal(claimed[0].deliveries, 2);
    assert.deepEqual(decode(claimed[0].fields.task), { n: 7 });
    // Now "b" holds it: "a" can no longer acknowledge it, "b" can.
    assert.deepEqual(await f.engine.extend(S, G, "a", [id]), []);
    assert.equal(await f.engine.ack(S, G, [id]), 1);
    assert.equal(await f.engine.ack(S, G, [id]), 0);
  },
});

Deno.test({
  name: "Engine.claimExpired() scans the whole pending list across calls",
  ignore,
  async fn() {
    await using f = await setup();
    await f.engine.createGroup(S, G);
    const ids = await f.engine.addMany(
      S,
      Array.from({ length: 25 }, (_, n) => task(n)),
    );
    await f.engine.read(S, G, "a", 100, 0);
    const claimed = new Set<string>();
    await until(async () => {
      const { entries } = await f.engine.claimExpired(S, G, "b", {
        leaseField: "lease",
        minIdleMs: 50,
        count: 10,
      });
      for (const entry of entries) claimed.add(entry.id);
      return claimed.size === ids.length ? true : undefined;
    }, "claiming all 25 entries, 10 at a time");
    assert.deepEqual([...claimed].toSorted(), ids.toSorted());
  },
});

Deno.test({
  name:
    "Engine.extend() keeps an entry from being claimed and does not count a delivery",
  ignore,
  async fn() {
    await using f = await setup();
    await f.engine.createGroup(S, G);
    const id = await f.engine.add(S, task(1));
    await f.engine.read(S, G, "a", 1, 0);
    const MIN_IDLE = 500;
    // For two idle periods "a" extends every 20 ms; "b" never gets it.
    const extending = performance.now() + 2 * MIN_IDLE;
    let extensions = 0;
    while (performance.now() < extending) {
      assert.deepEqual(await f.engine.extend(S, G, "a", [id]), [id]);
      extensions++;
      const { entries } = await f.engine.claimExpired(S, G, "b", {
        leaseField: "lease",
        minIdleMs: MIN_IDLE,
        count: 10,
      });
      assert.deepEqual(entries, [], "claimed while extended");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.ok(extensions > 10);
    // Left idle, it goes to "b" as its second delivery, not its 2 + N-th.
    const claimed = await until(async () => {
      const { entries } = await f.engine.claimExpired(S, G, "b", {
        leaseField: "lease",
        minIdleMs: MIN_IDLE,
        count: 10,
      });
      return entries[0];
    }, "claimExpired() once extends stop");
    assert.equal(claimed.id, id);
    assert.equal(claimed.deliveries, 2);
  },
});

Deno.test({
  name:
    "Engine.remove() of an unread entry returns 1 and it is never delivered",
  ignore,
  async fn() {
    await using f = await setup();
    await f.engine.createGroup(S, G);
    const [doomed, kept] = await f.engine.addMany(S, [task(1), task(2)]);
    assert.equal(await f.engine.remove(S, [doomed]), 1);
    assert.equal(await f.engine.remove(S, [doomed]), 0);
    const entries = await f.engine.read(S, G, "a", 10, 0);
    assert.deepEqual(entries.map((entry) => entry.id), [kept]);
  },
});

Deno.test({
  name:
    "Engine.remove() of a delivered entry returns 1 too; it stays pending and is never redelivered",
  ignore,
  async fn() {
    await using f = await setup();
    await f.engine.createGroup(S, G);
    const [id, other] = await f.engine.addMany(S, [task(1), task(2)]);
    await f.engine.read(S, G, "a", 10, 0);
    // XDEL does not look at groups: a delivered entry counts as removed.
    assert.equal(await f.engine.remove(S, [id]), 1);
    assert.equal(await f.engine.remove(S, [id]), 0);
    // "a" may be running it; left idle with `other`, claimExpired reports it
    // deleted, never as an entry, and takes `other`.
    const deleted: string[] = [];
    const entries: string[] = [];
    await until(async () => {
      const result = await f.engine.claimExpired(S, G, "b", {
        leaseField: "lease",
        minIdleMs: 50,
        count: 10,
      });
      deleted.push(...result.deleted);
      entries.push(...result.entries.map((entry) => entry.id));
      return deleted.length > 0 && entries.length > 0 ? true : undefined;
    }, "claimExpired() reporting the deleted entry and taking the other");
    assert.deepEqual(deleted, [id]);
    assert.deepEqual(entries, [other]);
    // Dropped from the group's pending list: acknowledging it finds nothing.
    assert.equal(await f.engine.ack(S, G, [id]), 0);
  },
});

Deno.test({
  name:
    "Engine.extend() of a removed delivered entry drops it and reports it lost",
  ignore,
  async fn() {
    await using f = await setup();
    await f.engine.createGroup(S, G);
    const id = await f.engine.add(S, task(1));
    await f.engine.read(S, G, "a", 10, 0);
    await f.engine.remove(S, [id]);
    assert.deepEqual(await f.engine.extend(S, G, "a", [id]), []);
    assert.equal(await f.engine.ack(S, G, [id]), 0);
  },
});

Deno.test({
  name: "Engine.ack() of a removed delivered entry by its consumer returns 1",
  ignore,
  async fn() {
    await using f = await setup();
    await f.engine.createGroup(S, G);
    const id = await f.engine.add(S, task(1));
    await f.engine.read(S, G, "a", 10, 0);
    assert.equal(await f.engine.remove(S, [id]), 1);
    assert.equal(await f.engine.ack(S, G, [id]), 1);
  },
});

Deno.test({
  name: "Engine.ack() with remove deletes the entries in the same write",
  ignore,
  async fn() {
    await using f = await setup();
    await f.engine.createGroup(S, G);
    const ids = await f.engine.addMany(S, [task(1), task(2), task(3)]);
    await f.engine.read(S, G, "a", 10, 0);
    assert.equal(
      await f.engine.ack(S, G, ids.slice(0, 2), { remove: true }),
      2,
    );
    assert.equal(await f.engine.ack(S, G, ids.slice(2)), 1);
    const left = await f.engine.readReplies(S, "0", 0);
    assert.deepEqual(left.entries.map((entry) => entry.id), [ids[2]]);
  },
});

Deno.test({
  name:
    "Engine.readReplies() blocks for the next reply and resumes after lastId",
  ignore,
  async fn() {
    await using f = await setup();
    const R = "replies";
    const waiting = f.engine.readReplies(R, "0", WAIT_MS);
    const first = await f.engine.add(R, { value: encode("one") });
    const got = await deadline(waiting, WAIT_MS, "blocked readReplies()");
    assert.deepEqual(got.entries.map((entry) => entry.id), [first]);
    assert.equal(got.lastId, first);
    const [second, third] = await f.engine.addMany(R, [
      { value: encode("two") },
      { value: encode("three") },
    ]);
    const more = await f.engine.readReplies(R, got.lastId, WAIT_MS);
    assert.deepEqual(more.entries.map((entry) => entry.id), [second, third]);
    assert.deepEqual(
      more.entries.map((entry) => decode(entry.fields.value)),
      ["two", "three"],
    );
    const none = await f.engine.readReplies(R, more.lastId, 30);
    assert.deepEqual(none, { entries: [], lastId: third });
  },
});

Deno.test({
  name: "Engine.add() with maxLen trims the stream to about that length",
  ignore,
  async fn() {
    await using f = await setup();
    for (let i = 0; i < 5; i++) {
      await f.engine.addMany(
        "r",
        Array.from({ length: 200 }, () => ({ v: "x" })),
        { maxLen: 100 },
      );
    }
    const { entries } = await f.engine.readReplies("r", "0", 0, 10_000);
    // MAXLEN ~ trims whole radix-tree nodes (100 entries by default).
    assert.ok(
      entries.length >= 100 && entries.length < 1000,
      `${entries.length}`,
    );
  },
});

Deno.test({
  name:
    "Engine.add() with noCreate adds to a stream that exists and makes none that does not",
  ignore,
  async fn() {
    await using f = await setup();
    assert.equal(
      await f.engine.add("gone", { v: "x" }, { noCreate: true }),
      "",
    );
    await using raw = await rawClient(f.redis.url);
    assert.equal(await raw.command(["EXISTS", "gone"]), 0);
    await f.engine.createGroup("here", "mark");
    const id = await f.engine.add("here", { v: "x" }, { noCreate: true });
    assert.match(id, /^\d+-\d+$/);
    assert.equal(await raw.command(["XLEN", "here"]), 1);
  },
});

Deno.test({
  name:
    "Engine.expire() sets a time-to-live on the keys that exist; announce() renews its set's",
  ignore,
  async fn() {
    await using f = await setup();
    await using raw = await rawClient(f.redis.url);
    await f.engine.createGroup("own", "mark");
    await f.engine.expire(["own", "missing"], 5_000);
    const ttl = Number(await raw.command(["PTTL", "own"]));
    assert.ok(ttl > 4_000 && ttl <= 5_000, `${ttl}`);
    assert.equal(await raw.command(["EXISTS", "missing"]), 0);
    await f.engine.announce("live", "live:data", "node-1", '{"workers":2}', {
      ttlMs: 3_000,
      keyTtlMs: 7_000,
    });
    for (const key of ["live", "live:data"]) {
      const setTtl = Number(await raw.command(["PTTL", key]));
      assert.ok(setTtl > 6_000 && setTtl <= 7_000, `${key}: ${setTtl}`);
    }
    assert.deepEqual(await f.engine.alive("live", "live:data"), [
      { member: "node-1", data: '{"workers":2}' },
    ]);
    // A member whose ttl ran out is dropped, with its data.
    await f.engine.announce("live", "live:data", "node-2", "{}", {
      ttlMs: 1,
      keyTtlMs: 7_000,
    });
    await new Promise((resolve) => setTimeout(resolve, 5));
    assert.deepEqual(
      (await f.engine.alive("live", "live:data")).map((a) => a.member),
      ["node-1"],
    );
    assert.equal(await raw.command(["HEXISTS", "live:data", "node-2"]), 0);
  },
});

Deno.test({
  name:
    "Engine.sweepConsumers() removes consumers that hold nothing and are idle, and keeps the others",
  ignore,
  async fn() {
    await using f = await setup();
    await f.engine.createGroup(S, G);
    await f.engine.addMany(S, [task(1), task(2)]);
    // "holder" keeps its entry; "gone" acknowledges its own.
    assert.equal((await f.engine.read(S, G, "holder", 1, 0)).length, 1);
    const [done] = await f.engine.read(S, G, "gone", 1, 0);
    assert.equal(await f.engine.ack(S, G, [done.id]), 1);
    await using raw = await rawClient(f.redis.url);
    const names = async () =>
      ((await raw.command(["XINFO", "CONSUMERS", S, G])) as {
        name: unknown;
      }[]).map((c) => String(c.name)).toSorted();
    assert.deepEqual(await names(), ["gone", "holder"]);
    // Not idle long enough: both stay.
    assert.equal(await f.engine.sweepConsumers(S, G, 60_000), 0);
    assert.deepEqual(await names(), ["gone", "holder"]);
    assert.equal(await f.engine.sweepConsumers(S, G, 0), 1);
    assert.deepEqual(await names(), ["holder"]);
  },
});

Deno.test({
  name:
    "Engine.release() hands a consumer's entries back: another claims them at once, and the hand-back counts no delivery",
  ignore,
  async fn() {
    await using f = await setup();
    await f.engine.createGroup(S, G);
    await f.engine.addMany(S, [task(1), task(2)]);
    const [one, two] = await f.engine.read(S, G, "a", 2, 0);
    // "b" holds nothing, so it hands nothing back.
    assert.deepEqual(await f.engine.release(S, G, "b", [one.id]), []);
    assert.deepEqual(await f.engine.release(S, G, "a", [one.id]), [one.id]);
    // Idle for an hour, at once; the other entry is still "a"'s alone.
    const claimed = await f.engine.claimExpired(S, G, "c", {
      leaseField: "lease",
      minIdleMs: 3_600_000,
      count: 10,
    });
    assert.deepEqual(claimed.entries.map((e) => e.id), [one.id]);
    assert.equal(claimed.entries[0].deliveries, 1);
    assert.notEqual(claimed.entries[0].id, two.id);
  },
});

Deno.test({
  name:
    "Engine: while the server is down a command rejects within its timeout; after restart() it works again",
  ignore,
  async fn() {
    await using f = await setup({ commandTimeout: 500 });
    await f.engine.createGroup(S, G);
    // Loads the claim script, which the restarted server will not have.
    await f.engine.claimExpired(S, G, "b", {
      leaseField: "lease",
      minIdleMs: 60_000,
      count: 10,
    });
    const blocked = f.engine.read(S, G, "a", 10, WAIT_MS);
    blocked.catch(() => {}); // asserted below; it may reject before that
    const down = nextEvent(
      (listener) => f.engine.onDown(listener),
      "onDown after SIGKILL",
    );
    f.redis.kill("SIGKILL");
    await down;
    assert.equal(f.engine.up, false);
    // The read blocked in the dead server fails at once, not after blockMs.
    await assert.rejects(
      deadline(blocked, 2000, "the blocked read"),
      (error: Error) =>
        error instanceof EngineError && error.kind === "disconnected",
    );
    // The command connection may learn of the loss only from this command
    // (its socket closes under it); after that it is reconnecting, and a
    // command waits in the offline queue until its timeout.
    await assert.rejects(
      deadline(f.engine.add(S, task(0)), WAIT_MS, "first add() while down"),
      (error: Error) =>
        error instanceof EngineError &&
        (error.kind === "disconnected" || error.kind === "timeout"),
    );
    const started = performance.now();
    await assert.rejects(
      deadline(f.engine.add(S, task(1)), WAIT_MS, "add() while down"),
      (error: Error) => {
        assert.ok(error instanceof EngineError);
        assert.equal(error.kind, "timeout");
        assert.match(
          error.message,
          /XADD got no reply from 127\.0\.0\.1:\d+ within 500 ms/,
        );
        return true;
      },
    );
    const took = performance.now() - started;
    assert.ok(took >= 450 && took < 2000, `rejected after ${took} ms`);
    const up = nextEvent((listener) => f.engine.onUp(listener), "onUp");
    await f.redis.restart();
    await up;
    assert.equal(f.engine.up, true);
    // A fresh server: no stream, no group, no cached scripts.
    assert.equal(await f.engine.createGroup(S, G), true);
    const id = await f.engine.add(S, task(2));
    const [entry] = await f.engine.read(S, G, "a", 10, WAIT_MS);
    assert.equal(entry.id, id);
    await f.engine.claimExpired(S, G, "b", {
      leaseField: "lease",
      minIdleMs: 0,
      count: 10,
    });
  },
});

Deno.test({
  name:
    "Engine: a command sent while the server restarts is delivered once it is back",
  ignore,
  async fn() {
    await using f = await setup({ commandTimeout: WAIT_MS });
    const down = nextEvent((listener) => f.engine.onDown(listener), "onDown");
    f.redis.kill("SIGTERM");
    await down;
    // onDown may come from the blocking connection while the command
    // connection has not yet seen its socket close: a command written to
    // that socket rejects "disconnected" (the server never had it). Once the
    // loss is known, a command waits in the offline queue for the restart.
    let sent = 0;
    let id: string | undefined;
    while (id === undefined) {
      assert.ok(++sent <= 2, "a second add() was not queued");
      // Settled into a value at once: it may reject during the restart.
      const adding = f.engine.add(S, { v: "queued" }).then(
        (id) => ({ id, error: undefined }),
        (error: unknown) => ({ id: undefined, error }),
      );
      if (sent === 1) await f.redis.restart();
      const outcome = await deadline(adding, WAIT_MS, "queued add()");
      id = outcome.id;
      if (outcome.error !== undefined) {
        assert.ok(outcome.error instanceof EngineError);
        assert.equal(outcome.error.kind, "disconnected");
      }
    }
    const { entries } = await f.engine.readReplies(S, "0", 0);
    assert.deepEqual(entries.map((entry) => entry.id), [id]);
  },
});

Deno.test({
  name: "Engine.close() ends a blocked read at once with kind 'closed'",
  ignore,
  async fn() {
    await using redis = await startRedis();
    const engine = await connect(redis.url);
    await engine.createGroup(S, G);
    const blocked = engine.read(S, G, "a", 10, WAIT_MS);
    const replies = engine.readReplies("r", "$", WAIT_MS);
    // Asserted below; they reject while close() runs.
    blocked.catch(() => {});
    replies.catch(() => {});
    await deadline(engine.close(), WAIT_MS, "close()");
    for (const read of [blocked, replies] as Promise<unknown>[]) {
      await assert.rejects(
        deadline(read, 1000, "a blocked read after close()"),
        (error: Error) =>
          error instanceof EngineError && error.kind === "closed",
      );
    }
    await assert.rejects(
      engine.add(S, task(1)),
      (error: Error) => error instanceof EngineError && error.kind === "closed",
    );
    assert.equal(engine.up, false);
    await engine.close();
  },
});

Deno.test({
  name:
    "Engine.claimExpired() takes an entry only once it is idle past its own lease",
  ignore,
  async fn() {
    await using f = await setup();
    await f.engine.createGroup(S, G);
    const [short, long, plain] = await f.engine.addMany(S, [
      { ...task(1), lease: "100" },
      { ...task(2), lease: "60000" },
      task(3),
    ]);
    await f.engine.read(S, G, "a", 10, 0);
    const options = { leaseField: "lease", minIdleMs: 50, count: 10 };
    // Right after delivery nothing has expired, not even the floor.
    assert.deepEqual(await f.engine.claimExpired(S, G, "b", options), {
      entries: [],
      deleted: [],
    });
    const claimed = new Map<string, number>();
    await until(async () => {
      const { entries } = await f.engine.claimExpired(S, G, "b", options);
      // The first claim of each: "b" holds it then, and once it is idle
      // past the floor again a later poll claims it once more (count 3).
      for (const entry of entries) {
        if (!claimed.has(entry.id)) claimed.set(entry.id, entry.deliveries);
      }
      return claimed.size >= 2 ? true : undefined;
    }, "claimExpired() of the entries past their lease");
    // The short lease and the one without a lease (the floor) expired; the
    // 60 s one is still "a"'s.
    assert.deepEqual([...claimed.keys()].toSorted(), [short, plain].toSorted());
    assert.deepEqual([...claimed.values()], [2, 2]);
    assert.deepEqual(await f.engine.extend(S, G, "a", [long]), [long]);
    assert.deepEqual(await f.engine.extend(S, G, "a", [short]), []);
  },
});

Deno.test({
  name:
    "Engine.claimExpired() pages through the pending list and reports deleted entries",
  ignore,
  async fn() {
    await using f = await setup();
    await f.engine.createGroup(S, G);
    const ids = await f.engine.addMany(
      S,
      Array.from({ length: 25 }, (_, n) => ({ ...task(n), lease: "30" })),
    );
    await f.engine.read(S, G, "a", 100, 0);
    await f.engine.remove(S, [ids[3]]);
    const claimed = new Set<string>();
    const deleted: string[] = [];
    await until(async () => {
      const result = await f.engine.claimExpired(S, G, "b", {
        leaseField: "lease",
        minIdleMs: 30,
        count: 4,
        scan: 10,
      });
      assert.ok(result.entries.length <= 4, `${result.entries.length}`);
      for (const entry of result.entries) claimed.add(entry.id);
      deleted.push(...result.deleted);
      return claimed.size === 24 && deleted.length === 1 ? true : undefined;
    }, "claiming 24 entries, at most 4 a call from pages of 10");
    assert.deepEqual(deleted, [ids[3]]);
    assert.equal(await f.engine.ack(S, G, [ids[3]]), 0);
  },
});

Deno.test({
  name: "Engine.drop() deletes streams; removeConsumer() leaves the group",
  ignore,
  async fn() {
    await using f = await setup();
    await f.engine.createGroup(S, G);
    await f.engine.add(S, task(1));
    await f.engine.read(S, G, "a", 10, 0);
    assert.equal(await f.engine.removeConsumer(S, G, "a"), 1);
    assert.equal(await f.engine.removeConsumer(S, G, "never"), 0);
    await f.engine.add("other", task(2));
    assert.equal(await f.engine.drop([S, "other", "missing"]), 2);
    const { entries } = await f.engine.readReplies(S, "0", 0);
    assert.deepEqual(entries, []);
    // The group went with the stream.
    assert.equal(await f.engine.createGroup(S, G), true);
  },
});
