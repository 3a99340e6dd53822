// Option checks and the submit path shared by the pool executors (thread and
// process): validate once at the boundary, then hand off to `Pool`.
import { Future } from "../future/future.ts";
import { BrokenExecutorError, ShutdownError } from "../future/errors.ts";
import { checkSignal, checkTimeout, describe } from "../future/_util.ts";
import { functionSpec } from "./_task.ts";
import type { Pool } from "./_pool.ts";
import type { ChunkOutcome, RunOptions, Task } from "./executor.ts";
import type { FunctionSpec } from "./_protocol.ts";

/** The options every pool executor takes, validated. */
export interface CommonOptions {
  maxWorkers: number;
  maxTasksPerWorker: number;
  idleTimeout: number;
  name: string;
  initializer?: FunctionSpec;
  initargs?: unknown[];
}

/** An idle worker exits after this long, so a program that never shuts its
 * pool down still exits soon after its last task (Python's behaviour). */
export const DEFAULT_IDLE_TIMEOUT = 1000;

/**
 * Checks the options shared by the pool executors.
 *
 * @throws {TypeError} For an unknown option or a value of the wrong type.
 * @throws {RangeError} For a number out of range.
 */
export function checkCommonOptions(
  options: Record<string, unknown>,
  owner: string,
  known: readonly string[],
): CommonOptions {
  if (options === null || typeof options !== "object") {
    throw new TypeError(
      `Cannot create ${owner} as 'options' must be an object: current value is ${
        describe(options)
      }`,
    );
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new TypeError(
        `Cannot create ${owner} as '${key}' is not an option: the options are ${
          known.join(", ")
        }`,
      );
    }
  }
  const {
    maxWorkers = navigator.hardwareConcurrency,
    maxTasksPerWorker = Infinity,
    idleTimeout = DEFAULT_IDLE_TIMEOUT,
    name = owner,
    initializer,
    initargs = [],
  } = options;
  checkCount(maxWorkers, "maxWorkers", owner, false);
  checkCount(maxTasksPerWorker, "maxTasksPerWorker", owner, true);
  checkTimeout(idleTimeout, `create ${owner}`, "idleTimeout");
  if (typeof name !== "string") {
    throw new TypeError(
      `Cannot create ${owner} as 'name' must be a string: current value is ${
        describe(name)
      }`,
    );
  }
  if (!Array.isArray(initargs)) {
    throw new TypeError(
      `Cannot create ${owner} as 'initargs' must be an array: current value is ${
        describe(initargs)
      }`,
    );
  }
  return {
    maxWorkers: maxWorkers as number,
    maxTasksPerWorker: maxTasksPerWorker as number,
    idleTimeout: idleTimeout as number,
    name,
    initializer: initializer === undefined
      ? undefined
      : functionSpec(initializer, `create ${owner} with 'initializer'`),
    initargs,
  };
}

function checkCount(
  value: unknown,
  option: string,
  owner: string,
  infinite: boolean,
): void {
  if (typeof value !== "number") {
    throw new TypeError(
      `Cannot create ${owner} as '${option}' must be a number: current value is ${
        describe(value)
      }`,
    );
  }
  if (
    !(value >= 1) ||
    !(Number.isInteger(value) || (infinite && value === Infinity))
  ) {
    throw new RangeError(
      `Cannot create ${owner} as '${option}' must be an integer >= 1: current value is ${value}`,
    );
  }
}

/** The state of a pool executor that `submitTo` checks. */
export interface ExecutorState {
  pool: Pool;
  owner: string;
  shutdown: boolean;
}

/**
 * The submit path of a pool executor: checks, then queues the task.
 *
 * @throws {ShutdownError} After shutdown.
 * @throws {BrokenExecutorError} When the pool is broken.
 * @throws {TypeError} For something that is not a task, or bad options.
 */
export function submitTo<R>(
  state: ExecutorState,
  fn: Task<never[], unknown>,
  args: unknown[],
  options: RunOptions | undefined,
  chunk: 0 | 1,
): Future<R> {
  if (state.shutdown) {
    throw new ShutdownError(
      `Cannot submit to ${state.owner} after shutdown()`,
    );
  }
  const broken = state.pool.broken;
  if (broken !== undefined) {
    throw new BrokenExecutorError(broken.message, { cause: broken.cause });
  }
  const spec = functionSpec(fn, "submit");
  if (!Array.isArray(args)) {
    throw new TypeError(
      `Cannot submit as 'args' must be an array: current value is ${
        describe(args)
      }`,
    );
  }
  const future = new Future<R>();
  if (options === undefined) {
    state.pool.submit(future, spec, args, chunk);
    return future;
  }
  const { timeout, signal, transfer } = options;
  checkTimeout(timeout, "submit");
  checkSignal(signal, "submit");
  if (transfer !== undefined && !Array.isArray(transfer)) {
    throw new TypeError(
      `Cannot submit as 'transfer' must be an array: current value is ${
        describe(transfer)
      }`,
    );
  }
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
  });
  return future;
}

/** `runChunk` of a pool executor: the whole chunk is one task. */
export function submitChunk(
  state: ExecutorState,
  fn: Task,
  calls: unknown[][],
): Future<ChunkOutcome> {
  return submitTo<ChunkOutcome>(state, fn, calls, undefined, 1);
}
