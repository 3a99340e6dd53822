// Both sides: the task events of a queue, as nodes write them to
// `<queue>:events` (streams.ts: eventStream) in the same write as their
// replies, and as a dashboard reads them back. One entry per write: its one
// field (FIELD.EVENT) the node and the events of that write as JSON, a row
// each (EventRow), readable by XRANGE in redis-cli and by a dashboard
// without node:v8. (An entry per event cost ~17 % of the throughput of tiny
// tasks: one XADD per task; an object per event, stringified each, ~10 % of
// the CPU of nodes and Redis, bench/redis_events_pairs.ts; rows stringified
// once a write cost less.)
//
//   node: started ── progress … ── completed | failed | cancelled
//
// A task that finishes within the node's "started" delay (outbox.ts) has
// only its end event: its start is in it.
import { jsonSafe } from "../../../dashboard/figures.ts";
import { taskKey } from "./streams.ts";

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

/**
 * One event as an entry holds it: a row, not an object, so that a write of
 * many tasks' events is one `JSON.stringify` of rows and the entry carries
 * no key names per event (its node is the entry's):
 * `[kind, executorId, taskId, fn, submitted, start, end, progress|error]`.
 */
export type EventRow = [
  kind: TaskEventKind,
  executorId: string,
  taskId: number,
  fn: string,
  submitted: number | null,
  start: number | null,
  end: number | null,
  detail?: unknown,
];

/**
 * An entry's field value: one node's events, oldest first, as JSON
 * (`{ "node": …, "events": [row, …] }`), readable with XRANGE in redis-cli.
 */
export function encodeEvents(node: string, rows: readonly EventRow[]): string {
  return JSON.stringify({ node, events: rows });
}

/**
 * The events of an entry's field value, oldest first; none for one that
 * holds none (an entry another program or version wrote).
 */
export function decodeEvents(
  bytes: Uint8Array | string | undefined,
): TaskEvent[] {
  if (bytes === undefined) return [];
  let entry: { node?: unknown; events?: unknown };
  try {
    entry = JSON.parse(
      typeof bytes === "string" ? bytes : new TextDecoder().decode(bytes),
    );
  } catch {
    return [];
  }
  const { node, events } = entry ?? {};
  if (typeof node !== "string" || !Array.isArray(events)) return [];
  const decoded: TaskEvent[] = [];
  for (const row of events) {
    if (
      !Array.isArray(row) || typeof row[0] !== "string" ||
      typeof row[1] !== "string" || typeof row[2] !== "number" ||
      typeof row[3] !== "string"
    ) continue;
    const [kind, executorId, taskId, fn, submitted, start, end, detail] =
      row as EventRow;
    const event: TaskEvent = {
      kind,
      task: taskKey(executorId, taskId),
      fn,
      node,
    };
    if (typeof submitted === "number") event.submitted = submitted;
    if (typeof start === "number") event.start = start;
    if (typeof end === "number") event.end = end;
    if (kind === "progress") event.progress = detail;
    else if (kind === "failed" && detail !== undefined) {
      event.error = detail as TaskEventError;
    }
    decoded.push(event);
  }
  return decoded;
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
