/**
 * `ProcessPoolExecutor`: a pool of `deno` child processes, the executor that
 * can really stop a runaway task and contain one that runs out of memory.
 *
 * @module
 */
import { PoolExecutor, type PoolExecutorOptions } from "./pool_executor.ts";
import { permissionFlags, processSpawner } from "./_process/spawn.ts";
import { checkPoolOptions } from "./_pool/options.ts";
import type { PoolSetup } from "./_pool/submit.ts";

/**
 * Options of {@linkcode ProcessPoolExecutor}: those of every pool
 * ({@linkcode PoolExecutorOptions}), where `permissions` become `--allow-*`
 * flags (no unstable feature needed; `"inherit"` grants each permission the
 * program holds whole) and `memoryLimit` is each child's V8 heap limit (a
 * task that needs more kills only its child).
 */
export type ProcessPoolExecutorOptions = PoolExecutorOptions;

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
export class ProcessPoolExecutor extends PoolExecutor {
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
    const owner = "ProcessPoolExecutor";
    const { permissions, memoryLimit, ...pool } = checkPoolOptions(
      options,
      owner,
    );
    checkCanRun(owner);
    const spawn = processSpawner({
      flags: permissionFlags(permissions),
      memoryLimit,
      scoped: permissions !== undefined,
    });
    const workers: PoolSetup = {
      owner,
      pool: { ...pool, spawn, onClosed: spawn.close },
      permissions,
    };
    super(workers);
  }

  /**
   * Stops every child now (SIGTERM, then SIGKILL): their tasks and the
   * pending ones fail with `BrokenExecutorError`, and the pool is broken
   * (Python 3.14's `terminate_workers`).
   */
  terminateWorkers(): void {
    this.stopWorkers("The pool's workers were terminated");
  }

  /**
   * Kills every child now; as `terminateWorkers` (Python 3.14's
   * `kill_workers`; both end with SIGKILL after a short grace).
   */
  killWorkers(): void {
    this.stopWorkers("The pool's workers were killed");
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
