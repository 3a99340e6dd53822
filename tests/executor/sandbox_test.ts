// A pool with scoped permissions shares nothing with the program: every
// channel a Deno worker or child reaches without a permission check is
// closed there (SPEC "Scoped pools share nothing with the program").
import assert from "node:assert/strict";
import {
  type Executor,
  ProcessPoolExecutor,
  ThreadPoolExecutor,
} from "../../mod.ts";
import { deadline } from "../_deadline.ts";
import { runProgram } from "../_program.ts";

const WAIT = 15_000;

// Deno has the Web Locks API; its types do not name it yet.
type WithLocks = {
  locks: {
    query(): Promise<{ held: unknown[] }>;
    request(name: string, fn: () => unknown): Promise<unknown>;
  };
};

const scoped: { name: string; make(): Executor }[] = [
  {
    name: "ThreadPoolExecutor",
    make: () => new ThreadPoolExecutor({ maxWorkers: 1, permissions: "none" }),
  },
  {
    name: "ProcessPoolExecutor",
    make: () => new ProcessPoolExecutor({ maxWorkers: 1, permissions: "none" }),
  },
  {
    name: "ThreadPoolExecutor (object permissions)",
    make: () =>
      new ThreadPoolExecutor({ maxWorkers: 1, permissions: { env: true } }),
  },
];

function isClosed(what: RegExp): (error: unknown) => boolean {
  return (error) =>
    error instanceof Deno.errors.NotCapable && what.test(error.message) &&
    /closed in a pool with scoped permissions/.test(error.message);
}

// Runs `fn` in the pool and expects it to fail as closed.
async function refused(
  pool: Executor,
  fn: () => unknown,
  what: RegExp,
): Promise<void> {
  await assert.rejects(
    deadline(pool.submit(fn).result(), WAIT, String(what)),
    isClosed(what),
  );
}

for (const { name, make } of scoped) {
  Deno.test(`${name} with scoped permissions cannot reach the program's Cache API storage`, async () => {
    const cache = await caches.open("sandbox-test");
    await cache.put("http://api.test/token", new Response("token=abc123"));
    try {
      await using pool = make();
      await refused(
        pool,
        async () => {
          const c = await caches.open("sandbox-test");
          return await (await c.match("http://api.test/token"))?.text();
        },
        /Cache API/,
      );
      // No way around the global: its owner is replaced, not shadowed.
      await refused(
        pool,
        () => {
          try {
            // Strict code (a task is compiled as one) throws here.
            delete (globalThis as { caches?: unknown }).caches;
          } catch { /* not configurable: the global stays */ }
          return caches.keys();
        },
        /Cache API/,
      );
    } finally {
      await caches.delete("sandbox-test");
    }
  });

  Deno.test(`${name} with scoped permissions cannot persist through Web Storage`, async () => {
    await using pool = make();
    const outcome = await deadline(
      pool.submit(() => {
        if (!("localStorage" in globalThis)) return "absent";
        return localStorage.setItem("k", "v");
      }).exception(),
      WAIT,
      "localStorage",
    );
    // A Deno Worker has no Web Storage at all; a child process does.
    if (outcome !== undefined) {
      assert.ok(isClosed(/Web Storage/)(outcome), String(outcome));
    } else {
      assert.equal(
        await pool.submit(() => "localStorage" in globalThis).result(),
        false,
      );
    }
  });

  Deno.test(`${name} with scoped permissions cannot open a BroadcastChannel to the program`, async () => {
    const heard: unknown[] = [];
    const channel = new BroadcastChannel("sandbox-test");
    channel.onmessage = (event) => heard.push(event.data);
    try {
      await using pool = make();
      await refused(
        pool,
        () => new BroadcastChannel("sandbox-test").postMessage("leak"),
        /BroadcastChannel/,
      );
      assert.deepEqual(heard, []);
    } finally {
      channel.close();
    }
  });

  Deno.test(`${name} with scoped permissions cannot see or take the program's Web Locks`, async () => {
    const { promise: held, resolve: release } = Promise.withResolvers<void>();
    const lock = (navigator as unknown as WithLocks).locks.request(
      "sandbox-test",
      () => held,
    );
    try {
      await using pool = make();
      await refused(
        pool,
        () => (navigator as unknown as WithLocks).locks.query(),
        /Web Locks/,
      );
      await refused(
        pool,
        () =>
          (navigator as unknown as WithLocks).locks.request(
            "sandbox-test",
            () => "taken",
          ),
        /Web Locks/,
      );
    } finally {
      release();
      await lock;
    }
  });

  Deno.test(`${name} with scoped permissions cannot read stdin`, async () => {
    await using pool = make();
    await assert.rejects(
      deadline(
        pool.submit(() => Deno.stdin.read(new Uint8Array(8))).result(),
        WAIT,
        "stdin",
      ),
      (e) => e instanceof Deno.errors.NotCapable && /stdin/.test(e.message),
    );
    await assert.rejects(
      deadline(
        pool.submit(() =>
          (globalThis as unknown as { process: { stdin: unknown } }).process
            .stdin
        ).result(),
        WAIT,
        "process.stdin",
      ),
      (e) => e instanceof Deno.errors.NotCapable && /stdin/.test(e.message),
    );
  });

  Deno.test(`${name} with scoped permissions cannot listen to the program's signals`, async () => {
    await using pool = make();
    await refused(
      pool,
      () => Deno.addSignalListener("SIGINT", () => {}),
      /signals/,
    );
    await refused(
      pool,
      () =>
        (globalThis as unknown as {
          process: { on(event: string, fn: () => void): void };
        }).process.on("SIGINT", () => {}),
      /signals/,
    );
    // Other events of node's process object still work.
    assert.equal(
      await deadline(
        pool.submit(() => {
          const p = (globalThis as unknown as {
            process: { on(e: string, f: () => void): unknown };
          }).process;
          p.on("exit", () => {});
          return "ok";
        }).result(),
        WAIT,
        "process.on('exit')",
      ),
      "ok",
    );
  });
}

Deno.test("ThreadPoolExecutor with 'inherit' permissions keeps the Cache API and Web Locks", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const value = await deadline(
    pool.submit(async () => {
      await caches.delete("inherit-test");
      return typeof (await (navigator as unknown as WithLocks).locks.query())
        .held;
    }).result(),
    WAIT,
    "inherit pool",
  );
  assert.equal(value, "object");
});

Deno.test("ProcessPoolExecutor keeps its channel from every task: stdin is closed even in an 'inherit' pool, and the pool goes on", async () => {
  await using pool = new ProcessPoolExecutor({ maxWorkers: 1 });
  await assert.rejects(
    deadline(
      pool.submit(() => Deno.stdin.read(new Uint8Array(8))).result(),
      WAIT,
      "stdin",
    ),
    (e) =>
      e instanceof Deno.errors.NotCapable && /pool's channel/.test(e.message),
  );
  const after = [1, 2, 3].map((n) => pool.submit((x: number) => x * 2, n));
  assert.deepEqual(
    await deadline(
      Promise.all(after.map((f) => f.result())),
      WAIT,
      "after stdin",
    ),
    [2, 4, 6],
  );
});

// Runs a program with the library and `stdin` piped in; returns its stdout.
async function program(
  source: string,
  flags: string[],
  stdin = "",
): Promise<string> {
  const run = await runProgram(source, {
    flags: ["-A", "--no-config", ...flags],
    stdin,
    limitMs: WAIT,
  });
  assert.equal(run.code, 0, run.stdout + run.stderr);
  return run.stdout;
}

Deno.test("ThreadPoolExecutor with scoped permissions cannot take the program's stdin: the program still reads all of it", async () => {
  const stdout = await program(
    `import { ThreadPoolExecutor } from "MOD";
const pool = new ThreadPoolExecutor({ maxWorkers: 1, permissions: "none" });
const f = pool.submit(async () => {
  const buffer = new Uint8Array(64);
  const n = await Deno.stdin.read(buffer);
  return new TextDecoder().decode(buffer.subarray(0, n ?? 0));
});
console.log("task:", (await f.exception() as Error)?.name);
await pool.shutdown();
console.log("program:", (await new Response(Deno.stdin.readable).text()).trim());
`,
    ["--unstable-worker-options"],
    "password=hunter2\n",
  );
  assert.match(stdout, /task: NotCapable/);
  assert.match(stdout, /program: password=hunter2/);
});

Deno.test("ThreadPoolExecutor with scoped permissions cannot open the default Deno KV store (with --unstable-kv)", async () => {
  const stdout = await program(
    `import { ThreadPoolExecutor } from "MOD";
await using pool = new ThreadPoolExecutor({ maxWorkers: 1, permissions: "none" });
const error = await pool.submit(() => Deno.openKv()).exception() as Error;
console.log("kv:", error?.name, error?.message);
await using open = new ThreadPoolExecutor({ maxWorkers: 1 });
console.log("inherit:", await open.submit(() => typeof Deno.openKv).result());
`,
    ["--unstable-worker-options", "--unstable-kv"],
  );
  assert.match(stdout, /kv: NotCapable Deno\.openKv\(\) is closed/);
  assert.match(stdout, /inherit: function/);
});

Deno.test("ThreadPoolExecutor with scoped permissions cannot keep the program from stopping on SIGINT", async () => {
  const { stdout, signal } = await runProgram(
    `import { ThreadPoolExecutor } from "MOD";
const pool = new ThreadPoolExecutor({ maxWorkers: 1, permissions: "none", idleTimeout: Infinity });
const error = await pool.submit(() => {
  Deno.addSignalListener("SIGINT", () => {});
}).exception() as Error;
console.log("listen:", error?.name);
Deno.kill(Deno.pid, "SIGINT");
await new Promise((r) => setTimeout(r, 5000));
console.log("still running");
Deno.exit(0);
`,
    {
      flags: ["-A", "--no-config", "--unstable-worker-options"],
      limitMs: WAIT,
    },
  );
  assert.match(stdout, /listen: NotCapable/);
  assert.doesNotMatch(stdout, /still running/);
  assert.equal(signal, "SIGINT");
});
