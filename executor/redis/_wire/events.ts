// Both sides: the task events of a queue, as nodes write them to
// `<queue>:events` (streams.ts: eventStream) in the same write as their
// replies, and as a dashboard reads them back. One entry per write: its one
// field (FIELD.EVENT) the events of that write as a JSON array, readable by
// XRANGE in redis-cli and by a dashboard without node:v8. (An entry per
// event cost ~17 % of the throughput of tiny tasks, bench/redis_bench.ts:
// one XADD per task; a batch costs one per write.)
//
//   node: started ── progress … ── completed | failed | cancelled
//
// A task that finishes within the node's "started" delay (outbox.ts) has
// only its end event: its start is in it.
import { jsonSafe } from "../../../dashboard/figures.ts";

export { jsonSafe };

/** What happened to a task on a node. */
export type TaskEventKind =
  | "started"
  | "progress"
  | "completed"
  | "failed"
  | "cancelled";

/** A failed task's error, as the dashboard shows it. */
export interface TaskEventError {
  name: string;
  message: string;
  stack?: string;
}

/** One event of one task on one node. */
export interface TaskEvent {
  kind: TaskEventKind;
  /** Its executor and its id (`taskKey`): unique across the queue. */
  task: string;
  /** Its function's name (a module task's export name). */
  fn: string;
  /** The node it ran on. */
  node: string;
  /** ms since the epoch (its executor's clock) it was submitted. */
  submitted?: number;
  /**
   * ms since the epoch (the node's clock) of its hand-over to the node's
   * pool; absent for a task stopped before it was handed over.
   */
  start?: number;
  /** ms since the epoch (the node's clock) it ended; on end events. */
  end?: number;
  /** The latest `reportProgress` value, made JSON-safe; on progress events. */
  progress?: unknown;
  /** On failed events. */
  error?: TaskEventError;
}

/** The ends a task can come to. */
export const END_KINDS: ReadonlySet<TaskEventKind> = new Set([
  "completed",
  "failed",
  "cancelled",
]);

// A stack longer than this is cut: the Failures panel shows the top.
const MAX_STACK_CHARS = 4000;

/** One event as JSON, to be joined into an entry by `joinEvents`. */
export function encodeEvent(event: TaskEvent): string {
  return JSON.stringify(event);
}

/** An entry's field value: events made by `encodeEvent`, oldest first. */
export function joinEvents(encoded: readonly string[]): string {
  return `[${encoded.join(",")}]`;
}

/**
 * The events of an entry's field value, oldest first; none for one that
 * holds none (an entry another program or version wrote).
 */
export function decodeEvents(
  bytes: Uint8Array | string | undefined,
): TaskEvent[] {
  if (bytes === undefined) return [];
  let list: unknown;
  try {
    list = JSON.parse(
      typeof bytes === "string" ? bytes : new TextDecoder().decode(bytes),
    );
  } catch {
    return [];
  }
  if (!Array.isArray(list)) return [];
  return list.filter((event: Partial<TaskEvent> | null) =>
    event !== null && typeof event === "object" &&
    typeof event.kind === "string" && typeof event.task === "string" &&
    typeof event.fn === "string" && typeof event.node === "string"
  );
}

/**
 * A task's error as an event carries it, from its wire record (an
 * `ErrorRecord`, or a `RawThrow` of a value that is not an Error).
 */
export function eventError(record: unknown): TaskEventError {
  const error = record as {
    error?: boolean;
    name?: unknown;
    message?: unknown;
    stack?: unknown;
    value?: unknown;
  };
  if (error?.error === true) {
    return {
      name: String(error.name),
      message: String(error.message),
      stack: typeof error.stack === "string"
        ? error.stack.slice(0, MAX_STACK_CHARS)
        : undefined,
    };
  }
  const value = error?.value;
  let message: string;
  try {
    message = typeof value === "string"
      ? value
      : JSON.stringify(jsonSafe(value));
  } catch {
    message = String(value);
  }
  return { name: typeof value, message: message ?? String(value) };
}
