// The node side: the task events a node writes for the queue's dashboard
// (_wire/events.ts), gathered from what the outbox already holds when it
// answers — the held task (its record, its hand-over time) and its reply —
// and sent by the outbox in the same write as the replies: one XADD of one
// entry holding all the events of that write. A node with `history` 0
// writes none.
import { functionName, sourceSpec } from "../../_base/function_spec.ts";
import type { Fields } from "../_engine/engine.ts";
import {
  encodeEvent,
  eventError,
  joinEvents,
  jsonSafe,
  type TaskEvent,
} from "../_wire/events.ts";
import type { ResultReply, TaskRecord } from "../_wire/records.ts";
import { FIELD, taskKey } from "../_wire/streams.ts";
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

/** One node's events not sent yet. */
export class NodeEvents {
  readonly #nodeId: string;
  /** Events the stream keeps (about); 0: the node writes none. */
  readonly history: number;
  // Each encoded (encodeEvent), oldest first.
  #pending: string[] = [];
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
    this.#add(held, "started");
  }

  /** A running task reported progress. */
  progress(held: Held, value: unknown): void {
    if (this.history === 0) return;
    const event = this.#event(held, "progress");
    event.progress = jsonSafe(value);
    this.#pending.push(encodeEvent(event));
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
    const event = this.#event(held, failed ? "failed" : "completed");
    event.end = epoch(performance.now());
    if (failed) event.error = eventError(error);
    this.#pending.push(encodeEvent(event));
  }

  /** A task its executor stopped is let go of, unanswered. */
  cancelled(held: Held): void {
    if (this.history === 0) return;
    const event = this.#event(held, "cancelled");
    event.end = epoch(performance.now());
    this.#pending.push(encodeEvent(event));
  }

  /**
   * The events to send now, as one entry (or none), and the entries the
   * stream keeps: `history` events at the size of entry this node writes on
   * average (MAXLEN counts entries). Nodes that write entries of different
   * sizes trim to different lengths, so the stream keeps about `history`
   * events, not exactly.
   */
  take(): { entry: Fields; maxLen: number } | undefined {
    const taken = this.#pending;
    if (taken.length === 0) return undefined;
    this.#pending = [];
    this.#sentEvents += taken.length;
    this.#sentEntries++;
    const perEntry = this.#sentEvents / this.#sentEntries;
    return {
      entry: { [FIELD.EVENT]: joinEvents(taken) },
      maxLen: Math.max(1, Math.ceil(this.history / perEntry)),
    };
  }

  /** Drops the events not sent (the outbox discards its replies). */
  clear(): void {
    this.#pending = [];
  }

  /** Events of a failed write, ahead of the newer ones. */
  putBack(entry: Fields): void {
    const text = entry[FIELD.EVENT] as string;
    this.#pending.unshift(text.slice(1, -1));
  }

  #add(held: Held, kind: TaskEvent["kind"]): void {
    this.#pending.push(encodeEvent(this.#event(held, kind)));
  }

  #event(held: Held, kind: TaskEvent["kind"]): TaskEvent {
    const { record, startedAt } = held;
    return {
      kind,
      task: taskKey(record.executorId, record.taskId),
      fn: nameOf(record),
      node: this.#nodeId,
      submitted: record.enqueuedAt,
      start: startedAt === undefined ? undefined : epoch(startedAt),
    };
  }
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
