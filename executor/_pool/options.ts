// The options of the pool executors, checked once at the boundary (the
// constructor); inner code trusts the values.
import { checkCount, checkTimeout, describe } from "../../future/_util.ts";
import { functionSpec } from "../_base/function_spec.ts";
import { checkKnownOptions } from "../_base/options.ts";
import { resolvePermissions } from "./permissions.ts";
import type { PoolOptions } from "./pool.ts";

/** The options every pool executor takes, validated. */
export interface CheckedOptions
  extends Omit<PoolOptions, "spawn" | "onClosed"> {
  /** What a worker gets: `undefined` inherits the program's. */
  permissions: Deno.PermissionOptions | undefined;
  /** MB of V8 heap per worker, if limited. */
  memoryLimit: number | undefined;
}

/** An idle worker exits after this long, so a program that never shuts its
 * pool down still exits soon after its last task (Python's behaviour). */
export const DEFAULT_IDLE_TIMEOUT = 1000;

// The options of PoolExecutorOptions, in the order messages list them.
const SHARED = [
  "maxWorkers",
  "permissions",
  "initializer",
  "initargs",
  "maxTasksPerWorker",
  "idleTimeout",
  "name",
  "memoryLimit",
] as const;

/**
 * Checks the options every pool executor takes.
 *
 * @param options What the caller gave.
 * @param owner The class being constructed, for messages.
 * @param extra The options only this class takes (checked by it).
 * @throws {TypeError} For an unknown option or a value of the wrong type.
 * @throws {RangeError} For a number out of range.
 * @throws {Deno.errors.NotCapable} For permissions wider than the program's.
 */
export function checkPoolOptions(
  options: unknown,
  owner: string,
  extra: readonly string[] = [],
): CheckedOptions {
  checkKnownOptions(options, owner, [...SHARED, ...extra]);
  const {
    maxWorkers = navigator.hardwareConcurrency,
    maxTasksPerWorker = Infinity,
    idleTimeout = DEFAULT_IDLE_TIMEOUT,
    name = owner,
    initializer,
    initargs = [],
    permissions,
    memoryLimit,
  } = options as Record<string, unknown>;
  const action = `create ${owner}`;
  checkCount(maxWorkers, action, "maxWorkers", false);
  checkCount(maxTasksPerWorker, action, "maxTasksPerWorker", true);
  checkTimeout(idleTimeout, action, "idleTimeout");
  checkMemoryLimit(memoryLimit, owner);
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
    permissions: resolvePermissions(permissions, owner),
    memoryLimit: memoryLimit as number | undefined,
  };
}

// A `memoryLimit` option (MB of V8 heap per worker).
function checkMemoryLimit(value: unknown, owner: string): void {
  if (value === undefined) return;
  if (typeof value !== "number") {
    throw new TypeError(
      `Cannot create ${owner} as 'memoryLimit' must be a number of MB: current value is ${
        describe(value)
      }`,
    );
  }
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(
      `Cannot create ${owner} as 'memoryLimit' must be an integer >= 1: current value is ${value}`,
    );
  }
}
