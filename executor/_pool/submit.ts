// The submit path of the pool executors: checks at the boundary, then hands
// the task to the pool. Also how the library's own code (a Redis node)
// reaches a pool executor's pool, by the executor, without a public API.
import { Future } from "../../future/future.ts";
import { BrokenExecutorError, ShutdownError } from "../../future/errors.ts";
import type { Pool, PoolOptions } from "./pool.ts";
import type { FunctionSpec } from "../_wire/protocol.ts";
import type { RunOptions } from "../executor.ts";

/**
 * The workers a pool executor runs on, as `ThreadPoolExecutor` and
 * `ProcessPoolExecutor` make them from their options. Opaque: its contents
 * are this library's own.
 */
export interface PoolWorkers {
  /** The executor's class name, for messages. */
  readonly owner: string;
}

/** What the library's pools put in `PoolWorkers`. */
export interface PoolSetup extends PoolWorkers {
  readonly pool: PoolOptions;
  /** The workers' permissions, as resolved; `undefined`: the program's. */
  readonly permissions: Deno.PermissionOptions | undefined;
}

/** A pool executor's state: its pool, its name, whether it is shut down. */
export interface ExecutorState {
  pool: Pool;
  owner: string;
  shutdown: boolean;
  /** The workers' permissions, as resolved; `undefined`: the program's. */
  permissions: Deno.PermissionOptions | undefined;
}

const states = new WeakMap<object, ExecutorState>();

/** Records an executor's state, for `stateOf`. */
export function register(executor: object, state: ExecutorState): void {
  states.set(executor, state);
}

/** The state of a pool executor, or `undefined` for any other object. */
export function stateOf(executor: object): ExecutorState | undefined {
  return states.get(executor);
}

/**
 * Throws unless the executor takes work; `held` work (a task the executor
 * held before its shutdown, now due) is taken after shutdown too.
 *
 * @throws {ShutdownError} After shutdown, for work that is not held.
 * @throws {BrokenExecutorError} When the pool is broken.
 */
export function checkOpen(state: ExecutorState, held = false): void {
  if (state.shutdown && !held) {
    throw new ShutdownError(
      `Cannot submit to ${state.owner} after shutdown()`,
    );
  }
  const broken = state.pool.broken;
  if (broken !== undefined) {
    throw new BrokenExecutorError(broken.message, { cause: broken.cause });
  }
}

/**
 * Queues a task on the pool, its arguments and options already checked (and
 * `checkOpen`); drives `future` if given (an attempt of a task the executor
 * holds), else a new one.
 */
export function submitTo<R>(
  state: ExecutorState,
  spec: FunctionSpec,
  args: unknown[],
  options: RunOptions | undefined,
  chunk: 0 | 1,
  future: Future<R> = new Future<R>(),
): Future<R> {
  if (options === undefined) {
    state.pool.submit(future, spec, args, chunk);
    return future;
  }
  const { timeout, signal, transfer, batch } = options as RunOptions & {
    batch?: boolean;
  };
  if (signal?.aborted) {
    future.setException(signal.reason);
    return future;
  }
  let moved = { args, transfer };
  // Move the buffers now: they are detached in the caller when run()
  // returns, even while the task waits in the queue.
  if (transfer !== undefined && transfer.length > 0) {
    moved = structuredClone(moved, { transfer });
  }
  state.pool.submit(future, spec, moved.args, chunk, {
    timeout,
    signal,
    transfer: moved.transfer,
    batch,
  });
  return future;
}
