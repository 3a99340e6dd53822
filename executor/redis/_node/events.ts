// The node side: the task events a node writes for the queue's dashboard
// (_wire/events.ts), gathered from what the outbox already holds when it
// answers — the held task (its record, its hand-over time) and its reply —
// and sent by the outbox in the same write as the replies: one XADD of one
// entry holding all the events of that write. A node with `history` 0
// writes none.
import { functionName, sourceSpec } from "../../_base/function_spec.ts";
import type { Fields } from "../_engine/engine.ts";
import {
  encodeEvents,
  eventError,
  type EventRow,
  jsonSafe,
  type TaskEventKind,
} from "../_wire/events.ts";
import type { ResultReply, TaskRecord } from "../_wire/records.ts";
import { FIELD } from "../_wire/streams.ts";
import type { Held } from "./held.ts";

/**
 * Events a queue's stream keeps, by default (each node trims it to about
 * this many as it adds: MAXLEN ~). ~150 bytes each, so ~1.5 MB of Redis
 * for the last 10,000 tasks: minutes of history on a busy queue, hours on a
 * quiet one.
 */
export const DEFAULT_HISTORY = 10_000;

// performance.now() readings to ms since the epoch.
const epoch = (at: number) => performance.timeOrigin + at;

/** What `take` hands the outbox: an entry, and how to put it back. */
export interface EventsEntry {
  entry: Fields;
  /** The entries the stream keeps (MAXLEN ~). */
  maxLen: number;
  /** Its rows, for `putBack` when the write failed. */
  rows: EventRow[];
}

/** One node's events not sent yet. */
export class NodeEvents {
  readonly #nodeId: string;
  /** Events the stream keeps (about); 0: the node writes none. */
  readonly history: number;
  // Oldest first.
  #pending: EventRow[] = [];
  // What it sent so far, for the events an entry holds on average.
  #sentEvents = 0;
  #sentEntries = 0;

  constructor(nodeId: string, history: number) {
    this.#nodeId = nodeId;
    this.history = history;
  }

  /** A task's "started" reply went out: it runs, for the dashboard too. */
  started(held: Held): void {
    if (this.history === 0) return;
    this.#pending.push(row(held, "started", null));
  }

  /** A running task reported progress. */
  progress(held: Held, value: unknown): void {
    if (this.history === 0) return;
    const event = row(held, "progress", null);
    event.push(jsonSafe(value));
    this.#pending.push(event);
  }

  /** A task is answered with `reply`. */
  ended(held: Held, reply: ResultReply): void {
    if (this.history === 0) return;
    // A map chunk that stopped at an item's error failed with it.
    const error = reply.ok
      ? (reply.value as { error?: unknown } | undefined)?.error
      : reply.error;
    const failed = !reply.ok ||
      (held.record.chunk === 1 && error !== undefined);
    const event = row(held, failed ? "failed" : "completed", now());
    if (failed) event.push(eventError(error));
    this.#pending.push(event);
  }

  /** A task its executor stopped is let go of, unanswered. */
  cancelled(held: Held): void {
    if (this.history === 0) return;
    this.#pending.push(row(held, "cancelled", now()));
  }

  /**
   * The events to send now, as one entry (or none), and the entries the
   * stream keeps: `history` events at the size of entry this node writes on
   * average (MAXLEN counts entries). Nodes that write entries of different
   * sizes trim to different lengths, so the stream keeps about `history`
   * events, not exactly.
   */
  take(): EventsEntry | undefined {
    const rows = this.#pending;
    if (rows.length === 0) return undefined;
    this.#pending = [];
    this.#sentEvents += rows.length;
    this.#sentEntries++;
    const perEntry = this.#sentEvents / this.#sentEntries;
    return {
      entry: { [FIELD.EVENT]: encodeEvents(this.#nodeId, rows) },
      maxLen: Math.max(1, Math.ceil(this.history / perEntry)),
      rows,
    };
  }

  /** Drops the events not sent (the outbox discards its replies). */
  clear(): void {
    this.#pending = [];
  }

  /** Events of a failed write, ahead of the newer ones. */
  putBack(taken: EventsEntry): void {
    this.#pending = [...taken.rows, ...this.#pending];
  }
}

// ms since the epoch, now.
const now = () => epoch(performance.now());

// A task's event row, up to its end.
function row(
  held: Held,
  kind: TaskEventKind,
  end: number | null,
): EventRow {
  const { record, startedAt } = held;
  return [
    kind,
    record.executorId,
    record.taskId,
    nameOf(record),
    record.enqueuedAt ?? null,
    startedAt === undefined ? null : epoch(startedAt),
    end,
  ];
}

// The name its executor sent, else a module task's export, else the name in
// its source (`function fib(`), else "anonymous".
function nameOf(record: TaskRecord): string {
  const fn = record.fn as { source?: string; module?: string; name?: string };
  if (typeof fn.name === "string") return fn.name;
  return typeof fn.source === "string"
    ? functionName(sourceSpec(fn.source))
    : "anonymous";
}
