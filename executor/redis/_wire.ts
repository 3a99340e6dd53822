// The records that cross Redis between a RedisExecutor and its nodes, and
// the streams they travel on. Imports only types: both sides read fields by
// name, as they read `_protocol.ts`'s records.
//
//   executor                                                    node
//   TaskRecord ── XADD <queue> ── group "nodes" ── XREADGROUP ──> runs it
//          <── XREAD <queue>:replies:<executorId> ── XADD [Reply, ...] ──
//   StopRecord ── XADD <queue>:control:<nodeId> ── XREAD ──────> stops it
//   stats() ── ZRANGE <queue>:nodes <── every second: ZADD <id>, HSET info
//
// A task entry has two fields: TASK, the node:v8 TaskRecord, and LEASE, the
// lease as text, so the claim script can read it (Lua cannot read v8). A
// reply entry carries every reply one node had for one executor at that
// moment, in one REPLIES field.
import type { ErrorRecord, RawThrow } from "../_wire/protocol.ts";

/** The consumer group every node of a queue reads in. */
export const GROUP = "nodes";

/** Field names of the entries. */
export const FIELD = {
  /** A task entry's node:v8 `TaskRecord`. */
  TASK: "t",
  /** A task entry's lease, in ms, as decimal text. */
  LEASE: "lease",
  /** A reply entry's node:v8 `Reply[]`. */
  REPLIES: "r",
  /** A control entry's node:v8 `StopRecord`. */
  CONTROL: "c",
} as const;

/** The task stream of a queue: one stream per queue. */
export function taskStream(queue: string): string {
  return queue;
}

/** Where nodes answer one executor. */
export function replyStream(queue: string, executorId: string): string {
  return `${queue}:replies:${executorId}`;
}

/**
 * The live nodes of a queue: a sorted set of node ids, each scored with the
 * Redis time (ms) its announcement expires at.
 */
export function nodesKey(queue: string): string {
  return `${queue}:nodes`;
}

/** What each live node last said of itself: a hash of `NodeInfo` JSON. */
export function nodeDataKey(queue: string): string {
  return `${queue}:nodes:data`;
}

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

/** Where executors tell one node to stop a task. */
export function controlStream(queue: string, nodeId: string): string {
  return `${queue}:control:${nodeId}`;
}

/** How a node finds the task's function: its source, or a module export. */
export type TaskFunction =
  | { source: string }
  | { module: string; name: string };

/** A task as it waits in the queue. */
export interface TaskRecord {
  /** Unique among its executor's tasks. */
  taskId: number;
  /** Whose task: the node answers on that executor's reply stream. */
  executorId: string;
  fn: TaskFunction;
  /** Its arguments; for a `map` chunk, one argument list per call. */
  args: unknown[];
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
    /** For a chunk: `{ values, error?: ErrorRecord | RawThrow }`. */
    | { ok: true; value: unknown }
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

/** How a node names a task it holds: its executor and its id. */
export function taskKey(executorId: string, taskId: number): string {
  return `${executorId}#${taskId}`;
}
