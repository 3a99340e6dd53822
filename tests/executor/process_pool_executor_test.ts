// What only a process pool can do: really stop a runaway task, contain one
// that runs out of memory, survive a killed or babbling child, and never
// leave a child behind.
import assert from "node:assert/strict";
import {
  BrokenExecutorError,
  type Future,
  ProcessPoolExecutor,
  reportProgress,
  TimeoutError,
} from "../../mod.ts";
import { deadline } from "../_deadline.ts";
import { runProgram } from "../_program.ts";

const WAIT = 15_000;

function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // A zombie (state Z) has exited and is only waiting to be reaped.
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

// Resolves with a future's first progress value, within `ms`: a task that
// reports as it starts says it runs in its child. Past `ms` it kills the
// pool's children, or closing the pool would wait for an endless task.
function firstProgress(
  pool: ProcessPoolExecutor,
  future: Future<unknown>,
  ms: number,
  what: string,
): Promise<unknown> {
  return deadline(
    new Promise((resolve) => future.addProgressCallback(resolve)),
    ms,
    what,
  ).catch((error) => {
    pool.killWorkers();
    throw error;
  });
}

async function until(check: () => boolean, ms: number, what: string) {
  await deadline(
    new Promise<void>((resolve) => {
      const poll = () => check() ? resolve() : setTimeout(poll, 20);
      poll();
    }),
    ms,
    what,
  );
}

Deno.test("ProcessPoolExecutor.run() timeout kills a task stuck in a synchronous loop", async () => {
  await using pool = new ProcessPoolExecutor({ maxWorkers: 1 });
  const pid = await deadline(pool.submit(() => Deno.pid).result(), WAIT, "pid");
  assert.ok(alive(pid));
  const loop = pool.run(
    () => {
      while (true) { /* spin */ }
    },
    [],
    { timeout: 200 },
  );
  await assert.rejects(deadline(loop.result(), WAIT, "timeout"), TimeoutError);
  await until(() => !alive(pid), 3000, "the looping child to be gone");
  assert.equal(await deadline(pool.submit(() => 2).result(), WAIT, "after"), 2);
});

Deno.test("ProcessPoolExecutor fails a task whose child is killed from outside; queued tasks run", async () => {
  await using pool = new ProcessPoolExecutor({ maxWorkers: 1 });
  const pid = await deadline(pool.submit(() => Deno.pid).result(), WAIT, "pid");
  const victim = pool.submit(() => {
    reportProgress("started");
    return new Promise(() => {});
  });
  const queued = pool.submit((x: number) => x * 2, 21);
  await firstProgress(pool, victim, WAIT, "the victim's start");
  Deno.kill(pid, "SIGKILL");
  await assert.rejects(
    deadline(victim.result(), WAIT, "killed"),
    (e) => e instanceof BrokenExecutorError && /SIGKILL/.test(e.message),
  );
  assert.equal(await deadline(queued.result(), WAIT, "queued"), 42);
});

Deno.test("ProcessPoolExecutor with memoryLimit fails a task that runs out of memory, alone", async () => {
  await using pool = new ProcessPoolExecutor({
    maxWorkers: 1,
    memoryLimit: 64,
  });
  const hog = pool.submit(() => {
    const hoard: number[][] = [];
    while (true) hoard.push(new Array(100_000).fill(1.5));
  });
  const next = pool.submit(() => "alive");
  await assert.rejects(
    deadline(hog.result(), WAIT, "OOM"),
    BrokenExecutorError,
  );
  assert.equal(await deadline(next.result(), WAIT, "next"), "alive");
});

Deno.test("ProcessPoolExecutor keeps a task's console.log and stdout writes off the channel", async () => {
  await using pool = new ProcessPoolExecutor({ maxWorkers: 1 });
  const value = await deadline(
    pool.submit(() => {
      console.log("\xcf\x46\x55\x01 looks like a frame");
      Deno.stdout.writeSync(new Uint8Array([0xcf, 0x46, 0x55, 0x01, 9, 9]));
      return "clean";
    }).result(),
    WAIT,
    "noisy task",
  );
  assert.equal(value, "clean");
  assert.equal(await pool.submit(() => 1).result(), 1);
});

Deno.test("ProcessPoolExecutor fails a task that writes garbage on the channel with BrokenExecutorError", async () => {
  await using pool = new ProcessPoolExecutor({ maxWorkers: 1 });
  const babbler = pool.submit(() => {
    Deno.writeFileSync("/dev/stdout", new TextEncoder().encode("garbage!!"));
    return new Promise(() => {});
  });
  await assert.rejects(
    deadline(babbler.result(), WAIT, "garbage"),
    (e) => e instanceof BrokenExecutorError && /garbage/.test(e.message),
  );
  assert.equal(await deadline(pool.submit(() => 3).result(), WAIT, "next"), 3);
});

Deno.test("ProcessPoolExecutor.terminateWorkers() and killWorkers() stop every child and break the pool", async () => {
  for (const stop of ["terminateWorkers", "killWorkers"] as const) {
    const pool = new ProcessPoolExecutor({ maxWorkers: 2 });
    const pids = await deadline(
      Promise.all([1, 2].map(() =>
        pool.submit(async () => {
          await new Promise((r) => setTimeout(r, 50));
          return Deno.pid;
        }).result()
      )),
      WAIT,
      "pids",
    );
    // Both children busy, so the rest stays pending.
    const running = [1, 2].map(() =>
      pool.submit(() => {
        reportProgress("started");
        return new Promise(() => {});
      })
    );
    const pending = [1, 2, 3].map((n) => pool.submit((x: number) => x, n));
    await Promise.all(
      running.map((f) =>
        firstProgress(pool, f, WAIT, "a running task's start")
      ),
    );
    assert.deepEqual(
      [...running, ...pending].map((f) => f.state),
      ["running", "running", "pending", "pending", "pending"],
    );
    pool[stop]();
    for (const future of [...running, ...pending]) {
      await assert.rejects(
        deadline(future.result(), WAIT, stop),
        BrokenExecutorError,
      );
    }
    assert.throws(() => pool.submit(() => 1), BrokenExecutorError);
    await deadline(pool.shutdown(), WAIT, "shutdown");
    for (const pid of pids) assert.equal(alive(pid), false, `${stop}: ${pid}`);
  }
});

// With full --allow-run the reaper is a shell script; when the program may
// run only deno, a deno process.
for (
  const [reaper, flags] of [
    ["sh", ["-A"]],
    ["deno", [`--allow-run=${Deno.execPath()}`, "--allow-read"]],
  ] as const
) {
  Deno.test(`ProcessPoolExecutor leaves no child behind when its program is killed with SIGKILL (${reaper} reaper)`, async () => {
    const dir = await Deno.makeTempDir();
    const file = `${dir}/parent.ts`;
    await Deno.writeTextFile(
      file,
      `import { ProcessPoolExecutor, reportProgress } from "${
        new URL("../../mod.ts", import.meta.url).href
      }";
const pool = new ProcessPoolExecutor({ maxWorkers: 2 });
const pids = await Promise.all([1, 2].map(() => pool.submit(async () => {
  await new Promise((r) => setTimeout(r, 50));
  return Deno.pid;
}).result()));
const spinning = [1, 2].map(() => pool.submit(() => {
  reportProgress(1);
  while (true) { /* spin */ }
}));
// Both children spin before the test kills this program.
await Promise.all(spinning.map((f) =>
  new Promise((resolve) => f.addProgressCallback(resolve))
));
console.log(JSON.stringify(pids));
await new Promise(() => {});
`,
    );
    const parent = new Deno.Command(Deno.execPath(), {
      args: ["run", ...flags, "--no-config", file],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const reader = parent.stdout.getReader();
    let text = "";
    try {
      while (!text.includes("\n")) {
        const { value, done } = await deadline(
          reader.read(),
          WAIT,
          "child pids",
        );
        if (done) break;
        text += new TextDecoder().decode(value);
      }
    } catch (error) {
      parent.kill("SIGKILL");
      await parent.status;
      await reader.cancel();
      throw error;
    }
    const pids = JSON.parse(text) as number[];
    assert.ok(pids.every(alive));
    parent.kill("SIGKILL");
    await parent.status;
    await reader.cancel();
    await until(
      () => !pids.some(alive),
      5000,
      "the orphaned children to be gone",
    );
    await Deno.remove(dir, { recursive: true });
  });
}

Deno.test("ProcessPoolExecutor fails a task that writes a well-framed but unreadable message with BrokenExecutorError", async () => {
  await using pool = new ProcessPoolExecutor({ maxWorkers: 1 });
  const forger = pool.submit(() => {
    // The channel's frame header (magic, little-endian length), then bytes
    // that node:v8 cannot deserialize.
    const frame = new Uint8Array([
      0xcf,
      0x46,
      0x55,
      0x01,
      4,
      0,
      0,
      0,
      1,
      2,
      3,
      4,
    ]);
    Deno.writeFileSync("/dev/stdout", frame);
    return new Promise(() => {});
  });
  await assert.rejects(
    deadline(forger.result(), WAIT, "unreadable frame"),
    (e) => e instanceof BrokenExecutorError && /garbage/.test(e.message),
  );
  assert.equal(await deadline(pool.submit(() => 4).result(), WAIT, "next"), 4);
});

Deno.test("ProcessPoolExecutor keeps the channel when a task closes stdout, and fails a task that closes fd 1 with BrokenExecutorError", async () => {
  await using pool = new ProcessPoolExecutor({ maxWorkers: 1 });
  const closer = pool.submit(() => {
    Deno.stdout.close();
    return "still heard";
  });
  assert.equal(
    await deadline(closer.result(), WAIT, "Deno.stdout.close()"),
    "still heard",
  );
  const fd = pool.submit(async () => {
    const fs = await import("node:fs");
    fs.closeSync(1);
    return "unheard";
  });
  await assert.rejects(
    deadline(fd.result(), WAIT, "closed fd 1"),
    BrokenExecutorError,
  );
  assert.equal(await deadline(pool.submit(() => 5).result(), WAIT, "next"), 5);
});

Deno.test("ProcessPoolExecutor fails an uncloneable result and argument with DataCloneError", async () => {
  await using pool = new ProcessPoolExecutor({ maxWorkers: 1 });
  const result = await deadline(
    pool.submit(() => Symbol("s")).exception(),
    WAIT,
    "result",
  ) as Error;
  assert.equal(result.name, "DataCloneError");
  assert.ok(result instanceof DOMException);
  const argument = (() => {
    try {
      return pool.submit((s: unknown) => typeof s, Symbol("a"));
    } catch (error) {
      return error;
    }
  })();
  const error = argument instanceof Error ? argument : await deadline(
    (argument as { exception(): Promise<unknown> }).exception(),
    WAIT,
    "argument",
  );
  assert.equal((error as Error).name, "DataCloneError");
  assert.equal(await deadline(pool.submit(() => 6).result(), WAIT, "next"), 6);
});

Deno.test("ProcessPoolExecutor() in a program without run permission throws NotCapable naming --allow-run", async () => {
  // No permission at all: loading the program and its imports needs none.
  const { stdout } = await runProgram(
    `import { ProcessPoolExecutor } from "MOD";
try {
  new ProcessPoolExecutor();
  console.log("constructed");
} catch (error) {
  console.log("threw", (error as Error).name, (error as Error).message);
}
`,
    { flags: ["--no-prompt", "--no-config"] },
  );
  assert.match(stdout, /threw NotCapable .*--allow-run/, stdout);
});

// A fresh child sends JSON until it has loaded node:v8 (codec.ts): its first
// messages that only node:v8 carries must still go, either way, sandboxed
// or not.
for (const permissions of ["none", "inherit"] as const) {
  Deno.test(`ProcessPoolExecutor carries a fresh child's first non-JSON argument and result (permissions: ${permissions})`, async () => {
    for (const first of ["result", "argument"] as const) {
      await using pool = new ProcessPoolExecutor({
        maxWorkers: 1,
        permissions,
      });
      const value = first === "result"
        ? pool.submit(() => new Map([[1, new Date(5)]]))
        : pool.submit((m: Map<number, Date>) => m, new Map([[1, new Date(5)]]));
      assert.deepStrictEqual(
        await deadline(value.result(), WAIT, first),
        new Map([[1, new Date(5)]]),
      );
      assert.equal(
        await deadline(pool.submit(() => 2).result(), WAIT, "next"),
        2,
      );
    }
  });
}

// The pool side imports node:v8 when a process pool is made
// (_pool/node_builtin.ts), not with mod.ts: in a fresh program, what only
// node:v8 carries still goes both ways from the first task on.
Deno.test("ProcessPoolExecutor carries what only node:v8 does both ways, in a fresh program", async () => {
  const run = await runProgram(`
import { ProcessPoolExecutor } from "MOD";
const pool = new ProcessPoolExecutor({ maxWorkers: 1 });
const back = pool.submit((m: Map<number, number>) => new Set(m.keys()), new Map([[1, 2]]));
console.log([...await back.result()]);
await pool.shutdown();
`);
  assert.equal(run.stderr, "");
  assert.equal(run.stdout, "[ 1 ]\n");
  assert.equal(run.code, 0);
});

Deno.test("ProcessPoolExecutor's channel survives a task that replaces JSON and Object functions", async () => {
  await using pool = new ProcessPoolExecutor({ maxWorkers: 1 });
  const vandal = pool.submit(() => {
    JSON.stringify = () => "garbage";
    JSON.parse = () => 42;
    Object.keys = () => [];
    Array.isArray = ((_: unknown) => false) as typeof Array.isArray;
    return { a: [1, 2] };
  });
  assert.deepStrictEqual(
    await deadline(vandal.result(), WAIT, "vandal"),
    { a: [1, 2] },
  );
  assert.deepStrictEqual(
    await deadline(
      pool.submit((x: number[]) => ({ x }), [3]).result(),
      WAIT,
      "next",
    ),
    { x: [3] },
  );
});
