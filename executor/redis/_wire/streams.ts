// Both sides: the keys a queue lives in and the field names of their
// entries; the records themselves are in records.ts.
//
//   executor                                                    node
//   TaskRecord ── XADD <queue> ── group "nodes" ── XREADGROUP ──> runs it
//          <── XREAD <queue>:replies:<executorId> ── XADD [Reply, ...] ──
//   StopRecord ── XADD <queue>:control:<nodeId> ── XREAD ──────> stops it
//   stats() ── <queue>:nodes, <queue>:nodes:data <── every second: announce
//
// A task entry has two fields: TASK, the node:v8 TaskRecord, and LEASE, the
// lease as text, so the claim script can read it (Lua cannot read v8). A
// reply entry carries every reply one node had for one executor at that
// moment, in one REPLIES field.

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

/** Where executors tell one node to stop a task. */
export function controlStream(queue: string, nodeId: string): string {
  return `${queue}:control:${nodeId}`;
}

/** How a node names a task it holds: its executor and its id. */
export function taskKey(executorId: string, taskId: number): string {
  return `${executorId}#${taskId}`;
}

/**
 * The marker group of a stream an owner made for itself (an executor's reply
 * stream, a node's control stream): XGROUP CREATE … MKSTREAM is how an empty
 * stream is made, and a reply stream without it after an outage tells that
 * Redis lost its data.
 */
export const MARK_GROUP = "alive";
