// Both sides: the records that cross Redis between a RedisExecutor and its
// nodes, as node:v8 values (codec.ts). Imports only types: both sides read
// fields by name, as they read the pools' protocol records.
import type { ErrorRecord, RawThrow } from "../../_wire/protocol.ts";
import type { ArgRef, ValueLimits, ValueRef } from "./values.ts";

/** What a node announces of itself every second. */
export interface NodeInfo {
  /** Its executor's workers. */
  workers: number;
  /** Its labels (SPEC "Labels"), sorted. */
  labels: string[];
  /** Tasks it runs now. */
  busy: number;
  /** Tasks it finished with a value, and with an error, since it started. */
  completed: number;
  failed: number;
}

/**
 * How a node finds the task's function: its source (with the name its
 * executor knows it by, for the dashboard: an arrow function's source lacks
 * it), or a module export.
 */
export type TaskFunction =
  | { source: string; name?: string }
  | { module: string; name: string };

/** A task as it waits in the queue. */
export interface TaskRecord {
  /** Unique among its executor's tasks. */
  taskId: number;
  /** Whose task: the node answers on that executor's reply stream. */
  executorId: string;
  fn: TaskFunction;
  /**
   * Its arguments; for a `map` chunk, one array per parameter (columns).
   * An argument kept in Redis is `null` here, and listed in `refs`.
   */
  args: unknown[];
  /** The arguments kept in Redis (values.ts); absent for none. */
  refs?: ArgRef[];
  /** Its executor's value options, when they are not the defaults. */
  values?: ValueLimits;
  /** 1 for a `map` chunk, else 0. */
  chunk: 0 | 1;
  /** ms from its start on the node; absent for none. */
  timeout?: number;
  /**
   * Its executor may ask to stop it while it runs (it has a signal): the
   * node runs it alone on a worker, which it can terminate.
   */
  stoppable?: true;
  /** Deliveries to nodes that died before it fails. */
  maxAttempts: number;
  /** ms a silent node holds it before another may take it. */
  lease: number;
  /** `Date.now()` at submit, for the node's logs and stats. */
  enqueuedAt: number;
}

/** A node took the task and handed it to its executor. */
export interface StartedReply {
  kind: "started";
  taskId: number;
  nodeId: string;
}

/**
 * Errors the node's side made (not the task's own), rebuilt as this
 * library's classes by the executor.
 */
export type Fault = "TimeoutError" | "BrokenExecutorError";

/** The task's outcome. */
export type ResultReply =
  & {
    kind: "result";
    taskId: number;
    nodeId: string;
    /** ms the task took on the node, from its hand-over to its pool. */
    ms?: number;
  }
  & (
    /**
     * For a chunk: `{ values, error?: ErrorRecord | RawThrow }`. A value
     * kept in Redis is `undefined` here, and `stored` says where it is.
     */
    | { ok: true; value: unknown; stored?: ValueRef }
    | { ok: false; error: ErrorRecord | RawThrow; fault?: Fault }
  );

/** A value the running task passed to `reportProgress`. */
export interface ProgressReply {
  kind: "progress";
  taskId: number;
  nodeId: string;
  value: unknown;
}

/** What a node tells an executor about a task. */
export type Reply = StartedReply | ProgressReply | ResultReply;

/** An executor asks a node to stop a task it runs (or is about to). */
export interface StopRecord {
  kind: "stop";
  executorId: string;
  taskId: number;
}
