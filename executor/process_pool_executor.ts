/**
 * `ProcessPoolExecutor`: a pool of `deno` child processes, the executor that
 * can really stop a runaway task and contain one that runs out of memory.
 *
 * @module
 */
import type { Future } from "../future/future.ts";
import {
  type ChunkOutcome,
  Executor,
  type RunOptions,
  type ShutdownOptions,
  type Task,
} from "./executor.ts";
import { Pool } from "./_pool.ts";
import { permissionFlags, processSpawner } from "./_process_worker.ts";
import { type Permissions, resolvePermissions } from "./_permissions.ts";
import {
  checkCommonOptions,
  type ExecutorState,
  submitChunk,
  submitTo,
} from "./_options.ts";
import { describe } from "../future/_util.ts";

/** Options of {@linkcode ProcessPoolExecutor}. */
export interface ProcessPoolExecutorOptions {
  /**
   * The most child processes running at once, an integer >= 1. They start
   * lazily, as in `ThreadPoolExecutor`.
   *
   * @default {navigator.hardwareConcurrency}
   */
  maxWorkers?: number;
  /**
   * The children's permissions, as `--allow-*` flags: `"inherit"` (each
   * permission this program holds whole), `"none"`, or an object such as
   * `{ read: ["./data"] }` in which an omitted key is denied. No unstable
   * feature is needed.
   *
   * @default {"inherit"}
   */
  permissions?: Permissions;
  /**
   * A child's V8 heap limit in MB: a task that needs more kills only its
   * child, and its future fails with `BrokenExecutorError`.
   */
  memoryLimit?: number;
  /** Runs once in each new child before its first task. */
  initializer?: Task;
  /**
   * The initializer's arguments.
   *
   * @default {[]}
   */
  initargs?: unknown[];
  /**
   * A child is replaced after this many tasks.
   *
   * @default {Infinity}
   */
  maxTasksPerWorker?: number;
  /**
   * Milliseconds after which an idle child exits.
   *
   * @default {1000}
   */
  idleTimeout?: number;
  /**
   * The workers' name prefix, shown in errors.
   *
   * @default {"ProcessPoolExecutor"}
   */
  name?: string;
}

const OPTIONS = [
  "maxWorkers",
  "permissions",
  "memoryLimit",
  "initializer",
  "initargs",
  "maxTasksPerWorker",
  "idleTimeout",
  "name",
] as const;

/**
 * Runs tasks on a pool of `deno` child processes, as Python's
 * `ProcessPoolExecutor`. Same tasks and behaviour as `ThreadPoolExecutor`;
 * in addition `timeout` and `signal` kill the child (SIGTERM, then SIGKILL
 * after a short grace), so a runaway synchronous loop really stops, and
 * `memoryLimit` contains a task that runs out of memory. The executor to
 * use for untrusted code.
 *
 * @example Stop a runaway task for real
 * ```ts
 * import { ProcessPoolExecutor, TimeoutError } from "@concurrent/futures";
 * import assert from "node:assert/strict";
 *
 * await using pool = new ProcessPoolExecutor({ maxWorkers: 1 });
 * const spin = () => {
 *   while (true) Math.random();
 * };
 * const runaway = pool.run(spin, [], { timeout: 500 });
 * await assert.rejects(runaway.result(), TimeoutError);
 * assert.equal(await pool.submit((x: number) => x * 2, 21).result(), 42);
 * ```
 */
export class ProcessPoolExecutor extends Executor {
  #state: ExecutorState;

  /**
   * Makes a pool; no process starts until there is work.
   *
   * @param options The pool's options.
   * @throws {TypeError} For an unknown option, or a value of the wrong type.
   * @throws {RangeError} For a number out of range.
   * @throws {Deno.errors.NotCapable} When the program may not run
   * `Deno.execPath()` (no `--allow-run`), or for `permissions` wider than
   * the program's own.
   */
  constructor(options: ProcessPoolExecutorOptions = {}) {
    super();
    const owner = "ProcessPoolExecutor";
    const common = checkCommonOptions(
      options as Record<string, unknown>,
      owner,
      OPTIONS,
    );
    const { memoryLimit } = options;
    if (memoryLimit !== undefined) {
      if (typeof memoryLimit !== "number") {
        throw new TypeError(
          `Cannot create ${owner} as 'memoryLimit' must be a number of MB: current value is ${
            describe(memoryLimit)
          }`,
        );
      }
      if (!Number.isInteger(memoryLimit) || memoryLimit < 1) {
        throw new RangeError(
          `Cannot create ${owner} as 'memoryLimit' must be an integer >= 1: current value is ${memoryLimit}`,
        );
      }
    }
    const permissions = resolvePermissions(options.permissions, owner);
    checkCanRun(owner);
    const spawn = processSpawner({
      flags: permissionFlags(permissions),
      memoryLimit,
      scoped: permissions !== undefined,
    });
    this.#state = {
      owner,
      shutdown: false,
      pool: new Pool({ ...common, spawn, onClosed: spawn.close }),
    };
  }

  /**
   * Schedules `fn(...args)` with per-task options; `timeout` and `signal`
   * kill the task's process.
   *
   * @typeParam A The task's parameters.
   * @typeParam R The task's return type.
   * @param fn The task: a self-contained function or a `fromModule` task.
   * @param args Its arguments (serialized with `node:v8`).
   * @param options `timeout`, `signal` and `transfer` (copied, not moved).
   * @returns The task's future.
   * @throws {ShutdownError} After `shutdown()`.
   * @throws {BrokenExecutorError} When the pool is broken.
   */
  run<A extends unknown[], R>(
    fn: Task<A, R>,
    args: A,
    options?: RunOptions,
  ): Future<Awaited<R>> {
    return submitTo(this.#state, fn as Task, args, options, 0);
  }

  /**
   * Sends a chunk of `map` calls to one process as one task.
   *
   * @param fn The task.
   * @param calls One argument list per call.
   * @returns The future of the chunk's outcome.
   */
  protected override runChunk(
    fn: Task,
    calls: unknown[][],
  ): Future<ChunkOutcome> {
    return submitChunk(this.#state, fn, calls);
  }

  /**
   * Stops taking work. Idempotent.
   *
   * @param options `wait` (default `true`) and `cancelFutures`.
   * @returns A promise that resolves once shut down (every process exited).
   */
  shutdown(options: ShutdownOptions = {}): Promise<void> {
    const { wait = true, cancelFutures = false } = options;
    this.#state.shutdown = true;
    const closed = this.#state.pool.close(cancelFutures);
    return wait ? closed : Promise.resolve();
  }

  /**
   * Stops every child now (SIGTERM, then SIGKILL): their tasks and the
   * pending ones fail with `BrokenExecutorError`, and the pool is broken
   * (Python 3.14's `terminate_workers`).
   */
  terminateWorkers(): void {
    this.#state.pool.terminate("The pool's workers were terminated");
  }

  /**
   * Kills every child now; as `terminateWorkers` (Python 3.14's
   * `kill_workers`; both end with SIGKILL after a short grace).
   */
  killWorkers(): void {
    this.#state.pool.terminate("The pool's workers were killed");
  }
}

// A child is `Deno.execPath()` run as a subprocess: without permission to run
// it, no task could ever start, so say so now rather than at a first task.
function checkCanRun(owner: string): void {
  const command = Deno.execPath();
  const { state } = Deno.permissions.querySync({ name: "run", command });
  if (state !== "granted") {
    throw new Deno.errors.NotCapable(
      `Cannot create ${owner} as the program may not run ${
        JSON.stringify(command)
      }, which starts its workers: run with --allow-run (or --allow-run=${command}), or use ThreadPoolExecutor`,
    );
  }
}
