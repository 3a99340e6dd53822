// Nothing of the library is left once shutdown() or close() resolves,
// whatever Redis did and whatever the tasks were doing: every closer ×
// every state of Redis, each case a whole child program
// (fixtures/shutdown_program.ts) that must end by itself within
// EXIT_MS of its last line, and the same steps again under `deno test`
// with the sanitizers on. In every case one task is running (A), one has
// finished and is replying (B: it ends after the fault, so its reply meets
// it), one is prefetched by the node (C) and one is queued (D).
import assert from "node:assert/strict";
import {
  BrokenExecutorError,
  CancelledError,
  type Future,
} from "../../../mod.ts";
import { RedisExecutor } from "../../../executor/redis/mod.ts";
import { deadline } from "../../_deadline.ts";
import { type RedisServer, requireRedis, startRedis } from "./_redis_server.ts";
import { rawClient, WAIT_MS } from "./_cluster.ts";
import { type NodeProcess, startNode } from "./_nodes.ts";
import {
  CONNECT_TIMEOUT,
  gate,
  LEASE,
  TASKS,
} from "./fixtures/shutdown_tasks.ts";

const ignore = !requireRedis();

const PROGRAM = new URL("./fixtures/shutdown_program.ts", import.meta.url)
  .pathname;
const NODE_MAIN =
  new URL("../../../executor/redis/node_main.ts", import.meta.url)
    .pathname;
const CONFIG = new URL("../../../deno.json", import.meta.url).pathname;

/** A program must end this soon after its last line. */
const EXIT_MS = 3_000;
/** A closer may take connectTimeout for Redis, and this much more. */
const CLOSE_SLACK_MS = 4_000;

const CLOSERS = [
  "shutdown",
  "shutdown-nowait",
  "shutdown-cancel",
  "node-close",
  "node-sigterm",
] as const;
type Closer = typeof CLOSERS[number];

const FAULTS = [
  "up",
  "killed",
  "restarted empty",
  "restarted with its data",
  "CLIENT KILL",
] as const;
type Fault = typeof FAULTS[number];

/** A child program, read line by line. */
interface Child {
  lines: string[];
  /** Resolves with the first line that starts with `prefix`. */
  line(prefix: string): Promise<string>;
  send(text: string): Promise<void>;
  kill(signal: Deno.Signal): void;
  /** Resolves with its exit code, and when it ended. */
  exited: Promise<{ code: number; at: number }>;
  stderr(): string;
  pid: number;
}

// What keeps a process that should have ended alive, as /proc tells: its
// threads (a Worker is one) and its open sockets and pipes.
function aliveIn(pid: number): string {
  try {
    const threads = [...Deno.readDirSync(`/proc/${pid}/task`)].map((t) =>
      Deno.readTextFileSync(`/proc/${pid}/task/${t.name}/comm`).trim()
    );
    const fds = [...Deno.readDirSync(`/proc/${pid}/fd`)].map((fd) => {
      try {
        return Deno.readLinkSync(`/proc/${pid}/fd/${fd.name}`);
      } catch {
        return "?";
      }
    });
    return `threads: ${threads.join(", ")}; fds: ${fds.join(", ")}`;
  } catch (error) {
    return `no /proc view: ${error}`;
  }
}

function spawn(args: string[]): Child {
  const process = new Deno.Command(Deno.execPath(), {
    args,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const lines: string[] = [];
  const waiters: { prefix: string; resolve: (line: string) => void }[] = [];
  let errors = "";
  const stdout = (async () => {
    let rest = "";
    for await (
      const text of process.stdout.pipeThrough(new TextDecoderStream())
    ) {
      rest += text;
      const parts = rest.split("\n");
      rest = parts.pop()!;
      for (const line of parts) {
        lines.push(line);
        for (const waiter of [...waiters]) {
          if (line.startsWith(waiter.prefix)) {
            waiters.splice(waiters.indexOf(waiter), 1);
            waiter.resolve(line);
          }
        }
      }
    }
  })();
  const stderr = (async () => {
    for await (
      const text of process.stderr.pipeThrough(new TextDecoderStream())
    ) errors += text;
  })();
  const writer = process.stdin.getWriter();
  const exited = process.status.then(async (status) => {
    const at = performance.now();
    await writer.close().catch(() => {});
    await Promise.all([stdout, stderr]);
    return { code: status.code, at };
  });
  return {
    lines,
    pid: process.pid,
    line(prefix) {
      const seen = lines.find((line) => line.startsWith(prefix));
      if (seen !== undefined) return Promise.resolve(seen);
      const { promise, resolve } = Promise.withResolvers<string>();
      waiters.push({ prefix, resolve });
      return promise;
    },
    send: (text) => writer.write(new TextEncoder().encode(text)),
    kill(signal) {
      try {
        process.kill(signal);
      } catch { /* already gone */ }
    },
    exited,
    stderr: () => errors,
  };
}

// Waits until `<dir>/<file>` exists, watching the dir.
async function fileIn(dir: string, file: string): Promise<void> {
  const exists = () => {
    try {
      Deno.statSync(`${dir}/${file}`);
      return true;
    } catch {
      return false;
    }
  };
  const watcher = Deno.watchFs(dir);
  try {
    await deadline(
      (async () => {
        if (exists()) return;
        for await (const _ of watcher) if (exists()) return;
      })(),
      WAIT_MS,
      `${file} in the gate dir`,
    );
  } finally {
    watcher.close();
  }
}

async function applyFault(redis: RedisServer, fault: Fault): Promise<void> {
  if (fault === "up") return;
  if (fault === "killed") {
    redis.kill("SIGKILL");
    await redis.exited;
  } else if (
    fault === "restarted empty" || fault === "restarted with its data"
  ) {
    redis.kill("SIGKILL");
    await redis.exited;
    await redis.restart();
  } else {
    await using raw = await rawClient(redis.url);
    // Every connection but this one: the nodes' and the executors'.
    await raw.command(["CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"]);
  }
}

// What a task's future may end as, given the fault: its value when Redis
// kept its data, else its value or BrokenExecutorError; D, queued, may be
// cancelled by a closer that cancels.
function checkOutcome(
  name: string,
  outcome: string,
  fault: Fault,
  closer: Closer,
): void {
  const allowed = new Set(["ok"]);
  if (fault === "killed" || fault === "restarted empty") {
    allowed.add("BrokenExecutorError");
  }
  if (
    name === "D" && (closer === "shutdown-cancel" || closer.startsWith("node"))
  ) {
    allowed.add("CancelledError");
  }
  assert.ok(
    allowed.has(outcome),
    `task ${name} ended as ${outcome}; allowed: ${[...allowed].join(", ")}`,
  );
}

async function runCase(
  closer: Closer,
  fault: Fault,
  mode: "program" | "test",
): Promise<void> {
  await using redis = await startRedis({
    persist: fault === "restarted with its data",
  });
  const dir = await Deno.makeTempDir({ prefix: "shutdown-matrix-" });
  const queue = `q-${crypto.randomUUID().slice(0, 8)}`;
  const common = [
    "--url",
    redis.url,
    "--queue",
    queue,
    "--dir",
    dir,
    "--closer",
    closer,
  ];
  const executorSide = closer.startsWith("shutdown");
  let node: NodeProcess | undefined;
  let executor: RedisExecutor | undefined;
  let child: Child | undefined;
  try {
    let futures: Future<string>[] = [];
    if (executorSide) {
      node = await startNode(redis.url, queue, {
        maxWorkers: 2,
        permissions: "inherit",
        prefetch: 1,
        connectTimeout: CONNECT_TIMEOUT,
      });
    }
    const flags = ["-A", "--config", CONFIG];
    const side = ["--side", executorSide ? "executor" : "node", ...common];
    child = mode === "test"
      ? spawn(["test", ...flags, PROGRAM, "--", ...side])
      : closer === "node-sigterm"
      ? spawn([
        "run",
        ...flags,
        NODE_MAIN,
        ...["--url", redis.url, "--queue", queue, "--executor", "thread"],
        ...["--max-workers", "2", "--permissions", "inherit", "--prefetch"],
        ...["1", "--connect-timeout", String(CONNECT_TIMEOUT)],
      ])
      : spawn(["run", ...flags, PROGRAM, ...side]);
    const ready = closer === "node-sigterm" && mode === "program"
      ? child.line("RedisNode ")
      : child.line("ready");
    await deadline(ready, WAIT_MS, "the child's ready line");
    if (!executorSide) {
      executor = new RedisExecutor({
        url: redis.url,
        queue,
        connectTimeout: CONNECT_TIMEOUT,
        lease: LEASE,
      });
      futures = TASKS.map((name) => executor!.submit(gate, dir, name));
      await fileIn(dir, "A.started");
      await fileIn(dir, "B.started");
      const c = futures[2];
      await deadline(
        (async () => {
          // "running" has no event: a bounded poll.
          while (!c.running()) {
            await new Promise((resolve) => setTimeout(resolve, 10));
          }
        })(),
        WAIT_MS,
        "C prefetched",
      );
    } else {
      await fileIn(dir, "A.started");
      await fileIn(dir, "B.started");
    }
    await applyFault(redis, fault);
    // B ends now: its reply meets the fault.
    await Deno.writeTextFile(`${dir}/release-B`, "");
    await fileIn(dir, "B.done");
    const closing = performance.now();
    if (closer === "node-sigterm" && mode === "program") child.kill("SIGTERM");
    else await child.send("go\n");
    await Deno.writeTextFile(`${dir}/release`, "");
    const last = closer === "node-sigterm" && mode === "program"
      ? Promise.resolve(closing)
      : child.line("last").then(() => performance.now());
    const lastAt = await deadline(
      last,
      CONNECT_TIMEOUT + CLOSE_SLACK_MS + WAIT_MS,
      "the child's last line",
    );
    const { code, at } = await deadline(
      child.exited,
      WAIT_MS,
      "the child's exit",
    ).catch((error) => {
      // Say what is still alive in it, for whoever reads the failure.
      throw new Error(
        `${error.message} (${closer} / Redis ${fault} / ${mode}; ${
          aliveIn(child!.pid)
        }):\n${child!.lines.join("\n")}\n${child!.stderr()}`,
        { cause: error },
      );
    });
    const context = `${closer} / Redis ${fault} / ${mode}:\n${
      child.lines.join("\n")
    }\n${child.stderr()}`;
    assert.equal(code, 0, context);
    if (mode === "program") {
      assert.ok(
        at - lastAt <= EXIT_MS,
        `exited ${Math.round(at - lastAt)} ms after its last line: ${context}`,
      );
    }
    const closed = child.lines.find((line) => line.startsWith("closed "));
    if (closed !== undefined) {
      const ms = Number(closed.split(" ")[1]);
      assert.ok(
        ms <= CONNECT_TIMEOUT + CLOSE_SLACK_MS,
        `the closer took ${ms} ms: ${context}`,
      );
    }
    if (executorSide) {
      for (const name of TASKS) {
        const line = child.lines.find((l) => l.startsWith(`settled ${name} `));
        assert.ok(line, `task ${name} never settled: ${context}`);
        checkOutcome(name, line.split(" ")[2], fault, closer);
      }
    } else {
      // What the node did not take (D) waits for another node: cancel it.
      await executor!.shutdown({ cancelFutures: true });
      for (const [i, future] of futures.entries()) {
        const error = await deadline(
          future.exception().catch((e) => e),
          WAIT_MS,
          `task ${TASKS[i]}`,
        );
        const outcome = error === undefined
          ? "ok"
          : error instanceof CancelledError
          ? "CancelledError"
          : error instanceof BrokenExecutorError
          ? "BrokenExecutorError"
          : String(error);
        checkOutcome(TASKS[i], outcome, fault, closer);
        if (outcome === "ok") assert.equal(await future.result(), TASKS[i]);
      }
    }
  } finally {
    child?.kill("SIGKILL");
    await child?.exited;
    await executor?.shutdown({ cancelFutures: true });
    if (fault === "killed") await redis.restart();
    await node?.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

for (const closer of CLOSERS) {
  for (const fault of FAULTS) {
    Deno.test({
      name:
        `shutdown matrix: ${closer}, Redis ${fault}, tasks queued/running/replying/prefetched: the program ends by itself, sanitizers clean`,
      ignore,
      async fn() {
        await Promise.all([
          runCase(closer, fault, "program"),
          runCase(closer, fault, "test"),
        ]);
      },
    });
  }
}
