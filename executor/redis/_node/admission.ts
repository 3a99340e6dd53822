// The node side: what a node does with a task record it was handed — runs
// it or refuses it — and how it hands it to its own pool executor. A task's
// source is only ever compiled inside the pool's workers (their sandbox);
// here it is data. The pool the node was given decides every permission:
// nothing in a task can widen it.
import { Future } from "../../../future/future.ts";
import { BrokenExecutorError } from "../../../future/errors.ts";
import { moduleSpec, sourceSpec } from "../../_base/function_spec.ts";
import type { FunctionSpec } from "../../_wire/protocol.ts";
import type { RunOptions } from "../../executor.ts";
import { checkOpen, type ExecutorState, submitTo } from "../../_pool/submit.ts";
import type { TaskRecord } from "../_wire/records.ts";
import type { Held } from "./held.ts";

/** Why a node does not run a task it was handed, if it does not. */
export function refusal(
  record: TaskRecord,
  deliveries: number,
  nodeId: string,
  allowModules: readonly string[],
): Error | undefined {
  if (deliveries > record.maxAttempts) {
    return new BrokenExecutorError(
      `The task was delivered ${
        deliveries - 1
      } times to nodes that died under it (maxAttempts ${record.maxAttempts}): node ${nodeId} did not run it again`,
    );
  }
  const fn = record.fn as { source?: unknown; module?: unknown };
  if (typeof fn?.source === "string") return undefined;
  if (typeof fn?.module !== "string") {
    return new TypeError(`Node ${nodeId} got a task with no function`);
  }
  let url: string;
  try {
    url = new URL(fn.module).href;
  } catch {
    url = String(fn.module);
  }
  if (allowModules.some((prefix) => url.startsWith(prefix))) return undefined;
  return new Deno.errors.NotCapable(
    `Node ${nodeId} does not run module task ${url}: it is under no 'allowModules' prefix of the node (${
      allowModules.length === 0 ? "none allowed" : allowModules.join(", ")
    })`,
  );
}

/** How a node runs what it takes. */
export interface RunLimits {
  /** Tasks it may hold beyond its free workers, or "auto" (read_ahead.ts). */
  prefetch: number | "auto";
  /** ms a task may run on this node, whatever its submitter asked. */
  maxTaskTime: number;
}

/**
 * Hands a held task to the pool, which starts it at once on a free worker
 * (with a read-ahead, it may wait there behind others). Every task gets a
 * signal of the node's, so that a `stop` or a lost lease ends it: dropped
 * from the pool's queue, or stopped where it runs (its worker is replaced).
 * A task the node took only for a free worker runs alone on it; one taken
 * ahead (a fixed prefetch, or "auto" for a function known quick) may share
 * a batch with others (`batch`), and a stop that finds it waiting behind
 * them on its worker stops it as it begins.
 *
 * @returns the task's future in the pool (failed, if the pool refused it).
 */
export function runOnPool(
  state: ExecutorState,
  held: Held,
  limits: RunLimits,
): Future<unknown> {
  const { record } = held;
  // The node's own limit, where it is the shorter: its TimeoutError says so.
  const timeout = Math.min(record.timeout ?? Infinity, limits.maxTaskTime);
  if (timeout < (record.timeout ?? Infinity)) held.nodeLimit = timeout;
  const batch = limits.prefetch === "auto"
    ? held.quick === true
    : limits.prefetch > 0;
  held.controller = new AbortController();
  try {
    checkOpen(state);
    return submitTo(
      state,
      specOf(record),
      record.args,
      {
        timeout: timeout === Infinity ? undefined : timeout,
        signal: held.controller.signal,
        batch: batch && timeout === Infinity,
      } as RunOptions,
      record.chunk,
    );
  } catch (error) {
    const failed = new Future<unknown>();
    failed.setException(error);
    return failed;
  }
}

/** The spec a task's function has in the node's pool. */
export function specOf(record: TaskRecord): FunctionSpec {
  const fn = record.fn as { source?: string; module: string; name: string };
  return fn.source !== undefined
    ? sourceSpec(fn.source)
    : moduleSpec(fn.module, fn.name);
}
