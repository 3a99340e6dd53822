// serveDashboard (dashboard/serve_dashboard.ts): where it listens, who it
// answers (token, loopback host), what it answers, its options, its close.
import assert from "node:assert/strict";
import {
  type Executor,
  fromModule,
  ProcessPoolExecutor,
  reportProgress,
  serveDashboard,
  ThreadPoolExecutor,
} from "@concurrent/futures";
import { deadline } from "../_deadline.ts";

const WAIT_MS = 20_000;

async function get(
  url: string | URL,
  init?: RequestInit,
): Promise<{ status: number; type: string | null; body: string }> {
  const response = await fetch(url, init);
  return {
    status: response.status,
    type: response.headers.get("content-type"),
    body: await response.text(),
  };
}

// A request with a Host header of our choosing (fetch sets its own).
async function statusWithHost(url: string, host: string): Promise<number> {
  const { hostname, port, pathname } = new URL("/api/snapshot", url);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  try {
    await conn.write(
      new TextEncoder().encode(
        `GET ${pathname} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
      ),
    );
    let text = "";
    const buffer = new Uint8Array(4096);
    const decoder = new TextDecoder();
    while (!text.includes("\r\n")) {
      const n = await conn.read(buffer);
      if (n === null) break;
      text += decoder.decode(buffer.subarray(0, n));
    }
    return Number(text.split(" ")[1]);
  } finally {
    conn.close();
  }
}

Deno.test("serveDashboard() listens on 127.0.0.1 by default, on a free port, and serves the page, the snapshot and the metrics", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  await using board = serveDashboard(pool);
  const url = new URL(board.url);
  assert.equal(url.hostname, "127.0.0.1");
  assert.ok(Number(url.port) > 0);
  assert.equal(url.pathname, "/");

  const page = await get(board.url);
  assert.equal(page.status, 200);
  assert.equal(page.type, "text/html; charset=utf-8");
  assert.match(page.body, /<script nonce="[0-9a-f]+">/);
  // Nothing from elsewhere: no src or href but its own relative links.
  assert.deepEqual(
    [...page.body.matchAll(/\b(?:src|href)="([^"]*)"/g)].map((m) => m[1]),
    ["data:,", "api/snapshot", "metrics"],
  );
  const snapshot = await get(new URL("/api/snapshot", board.url));
  assert.equal(snapshot.status, 200);
  assert.equal(snapshot.type, "application/json");
  assert.equal(JSON.parse(snapshot.body).title, "ThreadPoolExecutor");
  const metrics = await get(new URL("/metrics", board.url));
  assert.equal(metrics.status, 200);
  assert.match(metrics.body, /^concurrent_futures_workers 0$/m);
});

Deno.test("serveDashboard() with a token answers 401 without it, 200 with it as ?token= or Authorization: Bearer", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  await using board = serveDashboard(pool, { token: "s3cret-token" });
  for (const path of ["/", "/api/snapshot", "/metrics", "/nowhere"]) {
    const url = new URL(path, board.url);
    const without = await get(url);
    assert.equal(without.status, 401, path);
    assert.doesNotMatch(without.body, /ThreadPoolExecutor/);
    const wrong = await get(`${url}?token=s3cret-tokeN`);
    assert.equal(wrong.status, 401, path);
    const wrongBearer = await get(url, {
      headers: { authorization: "Bearer s3cret" },
    });
    assert.equal(wrongBearer.status, 401, path);
  }
  for (const path of ["/", "/api/snapshot", "/metrics"]) {
    const url = new URL(path, board.url);
    assert.equal((await get(`${url}?token=s3cret-token`)).status, 200, path);
    const bearer = await get(url, {
      headers: { authorization: "Bearer s3cret-token" },
    });
    assert.equal(bearer.status, 200, path);
  }
});

Deno.test("serveDashboard() is read-only (405) and answers only a loopback Host when on 127.0.0.1 without a token (403)", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  await using board = serveDashboard(pool);
  const post = await get(new URL("/api/snapshot", board.url), {
    method: "POST",
    body: "{}",
  });
  assert.equal(post.status, 405);
  assert.equal((await get(new URL("/nowhere", board.url))).status, 404);
  const { port } = new URL(board.url);
  assert.equal(await statusWithHost(board.url, `127.0.0.1:${port}`), 200);
  assert.equal(await statusWithHost(board.url, `localhost:${port}`), 200);
  assert.equal(await statusWithHost(board.url, "attacker.example"), 403);
});

Deno.test("serveDashboard() snapshot of a ProcessPoolExecutor: its tasks and functions since it started", async () => {
  await using pool = new ProcessPoolExecutor({ maxWorkers: 1 });
  await using board = serveDashboard(pool);
  const futures = [1, 2].map((n) =>
    pool.submit(function countTo(n: number): number {
      for (let i = 1; i <= n; i++) reportProgress({ i, of: n });
      return n;
    }, n)
  );
  await deadline(
    Promise.all(futures.map((f) => f.result())),
    WAIT_MS,
    "the tasks",
  );
  const snapshot = await (await fetch(new URL("/api/snapshot", board.url)))
    .json();
  assert.equal(snapshot.title, "ProcessPoolExecutor");
  assert.deepEqual(snapshot.stats.completed, pool.stats().completed);
  assert.deepEqual(
    snapshot.functions.map((f: { name: string }) => f.name),
    ["countTo"],
  );
  assert.equal(snapshot.functions[0].completed, 2);
  assert.equal(snapshot.functions[0].total, 2);
  assert.equal(snapshot.tasks.length, 2);
  for (const task of snapshot.tasks) {
    assert.equal(task.fn, "countTo");
    assert.equal(task.outcome, "completed");
    assert.ok(task.end >= task.start);
    assert.equal(task.worker, "ProcessPoolExecutor-1");
  }
  assert.match(snapshot.memory.note, /not measured/);
});

Deno.test('serveDashboard() snapshot: a running task\'s latest progress, as JSON (a BigInt as "2n")', async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  await using board = serveDashboard(pool);
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const future = pool.submit(async function hold(flag: Int32Array) {
    reportProgress({ step: 1n });
    reportProgress({ step: 2n });
    while (Atomics.load(flag, 0) === 0) {
      await Atomics.waitAsync(flag, 0, 0, 1000).value;
    }
    return "done";
  }, flag);
  try {
    const seen = Promise.withResolvers<void>();
    future.addProgressCallback((value) => {
      if ((value as { step: bigint }).step === 2n) seen.resolve();
    });
    await deadline(seen.promise, WAIT_MS, "the progress");
    const snapshot = await (await fetch(new URL("/api/snapshot", board.url)))
      .json();
    assert.equal(snapshot.tasks.length, 1);
    assert.equal(snapshot.tasks[0].outcome, "running");
    assert.equal(snapshot.tasks[0].fn, "hold");
    assert.deepEqual(snapshot.tasks[0].progress, { step: "2n" });
    assert.equal(snapshot.stats.running, 1);
    assert.deepEqual(snapshot.functions[0], {
      name: "hold",
      total: 1,
      queued: 0,
      running: 1,
      completed: 0,
      failed: 0,
      cancelled: 0,
    });
    assert.deepEqual(snapshot.workers.map((w: { busy: number }) => w.busy), [
      1,
    ]);
  } finally {
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
    await deadline(future.result(), WAIT_MS, "the task");
  }
});

Deno.test("serveDashboard() names a task by its function's name, a module task by its export, an unnamed one anonymous", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  await using board = serveDashboard(pool);
  const tasks = fromModule<typeof import("../executor/fixtures/tasks.ts")>(
    new URL("../executor/fixtures/tasks.ts", import.meta.url),
  );
  const double = (x: number) => x * 2;
  await deadline(
    Promise.all([
      pool.submit(tasks.add, 1, 2).result(),
      pool.submit(double, 1).result(),
      pool.submit((x: number) => x - 1, 1).result(),
      pool.submit(function named(x: number) {
        return x;
      }, 1).result(),
    ]),
    WAIT_MS,
    "the tasks",
  );
  const snapshot = await (await fetch(new URL("/api/snapshot", board.url)))
    .json();
  assert.deepEqual(
    snapshot.functions.map((f: { name: string }) => f.name),
    ["add", "double", "anonymous", "named"],
  );
});

Deno.test("serveDashboard() checks its arguments", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  assert.throws(
    () => serveDashboard({} as Executor),
    new TypeError(
      "Cannot serve dashboard as Object has no dashboard source: pass a ThreadPoolExecutor, a ProcessPoolExecutor, or a RedisExecutor (imported from the redis entry point)",
    ),
  );
  assert.throws(
    () => serveDashboard(null as unknown as Executor),
    new TypeError(
      "Cannot serve dashboard as 'executor' must be an executor: current value is null",
    ),
  );
  assert.throws(
    () => serveDashboard(pool, { port: 70000 }),
    new RangeError(
      "Cannot serve dashboard as 'port' must be between 0 and 65535: current value is 70000",
    ),
  );
  assert.throws(
    () => serveDashboard(pool, { port: "80" as unknown as number }),
    new TypeError(
      `Cannot serve dashboard as 'port' must be an integer: current value is "80" (string)`,
    ),
  );
  assert.throws(
    () => serveDashboard(pool, { token: "" }),
    new TypeError(
      `Cannot serve dashboard as 'token' must be a non-empty string: current value is "" (string)`,
    ),
  );
  assert.throws(
    () => serveDashboard(pool, { hostname: 1 as unknown as string }),
    new TypeError(
      "Cannot serve dashboard as 'hostname' must be a non-empty string: current value is 1 (number)",
    ),
  );
  assert.throws(
    () => serveDashboard(pool, { prot: 1 } as never),
    new TypeError(
      "Cannot serve dashboard as 'prot' is not an option: the options are port, hostname, token",
    ),
  );
});

Deno.test("serveDashboard() on a taken port throws AddrInUse and leaves nothing behind", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  await using first = serveDashboard(pool);
  const port = Number(new URL(first.url).port);
  assert.throws(() => serveDashboard(pool, { port }), Deno.errors.AddrInUse);
});

Deno.test("Dashboard.close() stops serving, is idempotent, and the pool runs on", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const board = serveDashboard(pool);
  assert.equal((await get(new URL("/metrics", board.url))).status, 200);
  await Promise.all([board.close(), board.close()]);
  await board[Symbol.asyncDispose]();
  await assert.rejects(fetch(new URL("/metrics", board.url)), TypeError);
  assert.equal(
    await deadline(
      pool.submit((x: number) => x, 7).result(),
      WAIT_MS,
      "a task",
    ),
    7,
  );
});
