// Both sides: the keys a queue lives in and the field names of their
// entries; the records themselves are in records.ts.
//
//   executor                                                    node
//   TaskRecord ── XADD <queue> ── group "nodes" ── XREADGROUP ──> runs it
//          <── XREAD <queue>:replies:<executorId> ── XADD [Reply, ...] ──
//   StopRecord ── XADD <queue>:control:<nodeId> ── XREAD ──────> stops it
//   stats() ── <queue>:nodes, <queue>:nodes:data <── every second: announce
//   dashboard ── XREAD <queue>:events <── XADD MAXLEN ~ (with the replies)
//
// A task with labels goes to `<queue>:labels:<a,b>` instead of `<queue>`,
// its label set added to `<queue>:labelsets` first; a node with labels reads
// the streams of the sets it has every label of, before the queue's own.
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
  /** An event entry's `TaskEvent`, as JSON text (events.ts). */
  EVENT: "e",
} as const;

/**
 * The task stream of a queue's tasks that need `labels` (sorted, without
 * repeats): the queue's own stream for none, and one stream per set of
 * labels (SPEC "Labels"), which only nodes with every one of them read.
 */
export function taskStream(
  queue: string,
  labels: readonly string[] = [],
): string {
  return labels.length === 0 ? queue : `${queue}:labels:${labels.join(",")}`;
}

/**
 * The sets of labels a queue's tasks have used: a set of their joined
 * names (`a,b`), which executors add to before their first such task and
 * nodes read to learn which streams to read.
 */
export function labelSetsKey(queue: string): string {
  return `${queue}:labelsets`;
}

/** The labels of a member of `labelSetsKey` (the inverse of the join). */
export function labelsOf(member: string): string[] {
  return member === "" ? [] : member.split(",");
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

/**
 * What the queue's nodes and executors share beside the queue itself (its
 * task events, its label sets) lives this long after the last node
 * announced itself or the last executor added to it: a queue nobody serves
 * any more leaves nothing for good, while a dashboard started a while after
 * its nodes stopped still shows their history.
 */
export const SHARED_TTL_MS = 24 * 60 * 60_000;

/**
 * The queue's task events (events.ts): a capped stream every node adds to
 * in the same write as its replies, which a dashboard reads from its start.
 */
export function eventStream(queue: string): string {
  return `${queue}:events`;
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
