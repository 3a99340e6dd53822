// The node side: a task the node holds, from its delivery to its
// acknowledgement, and how it is let go of.
import type { Future } from "../../../future/future.ts";
import type { TaskRecord } from "../_wire/records.ts";

/** A task this node holds, from its delivery to its acknowledgement. */
export interface Held {
  /** Its executor and id (`taskKey`). */
  key: string;
  entryId: string;
  /** The task stream its entry is in (the queue's, or a label set's). */
  stream: string;
  record: TaskRecord;
  state: "running" | "replying";
  /** Its future in the node's pool. */
  local?: Future<unknown>;
  /** Stops it: dropped from the pool's queue, or its worker replaced. */
  controller?: AbortController;
  /** "stop": its executor asked; "lost": its entry is no longer ours. */
  stopped?: "stop" | "lost";
  /** Its function was known quick when it was taken (read_ahead.ts). */
  quick?: boolean;
  /** performance.now() at its hand-over to the pool. */
  startedAt?: number;
  /** The node's maxTaskTime, when it is shorter than the task's timeout. */
  nodeLimit?: number;
}

/**
 * Ends a task the node no longer answers for: dropped from the pool's queue
 * if it has not started there, stopped if it can be; otherwise it runs to
 * its end and its outcome is dropped.
 */
export function halt(held: Held, why: string): void {
  if (held.local?.cancel()) return;
  held.controller?.abort(new Error(why));
}
