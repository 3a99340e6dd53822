// The node side: how many tasks a node takes beyond its free workers
// (SPEC "Speed by default"). A number is a fixed read-ahead. "auto" learns
// from the run times its pool measures in the workers: it takes ahead only
// while it runs tasks of functions seen to finish quickly — as many as its
// workers finish within AHEAD_MS — and none while it holds a slow or
// unknown one, or has nothing to run (an idle node reads only for its free
// workers, so a burst of long tasks spreads over the nodes instead of
// queueing on the first).
//
// One exception: a node that has just run out of tasks after a read ahead
// that got all it asked for (a burst is streaming) reads ahead again at
// once, from what is queued, without waiting: it only ever takes tasks that
// were queued before it ran out, so a burst that comes later still finds it
// taking only what it can start.
//
//   idle ── reads for free workers ── quick? ── reads ahead in batches
//                                       └─ slow or unknown: free workers only
//   drained after a full read ahead ── reads ahead, no wait ── none: idle
import type { TaskRecord } from "../_wire/records.ts";

// A function is quick while its mean run time in a worker is at most this.
const QUICK_MS = 5;
// "auto" takes ahead what its workers finish in about this long...
const AHEAD_MS = 4;
// ...counting each task at least this long (its trip through the pool)...
const TRIP_MS = 0.05;
// ...and never more than this many.
const MAX_AHEAD = 64;

/** A node's read-ahead: fixed, or learnt ("auto"). */
export class ReadAhead {
  readonly #fixed: number | undefined;
  readonly #callTime: (record: TaskRecord) => number | undefined;
  // Held tasks of functions not known quick (running or waiting).
  #slow = 0;
  // The mean ms of the quick function taken last.
  #quickMs = QUICK_MS;
  // The last read took ahead (more than the free workers) and got all it
  // asked for: the queue likely holds more of the same burst.
  #streaming = false;

  /**
   * @param prefetch The node's option.
   * @param callTime The mean ms a call of a task's function took in the
   * pool's workers, if it ran there.
   */
  constructor(
    prefetch: number | "auto",
    callTime: (record: TaskRecord) => number | undefined,
  ) {
    this.#fixed = prefetch === "auto" ? undefined : prefetch;
    this.#callTime = callTime;
  }

  /**
   * Whether a node holding `held` tasks reads ahead now from what is
   * queued, without waiting ("auto": it has just run out of tasks after a
   * read ahead that got all it asked for).
   */
  eager(held: number): boolean {
    return this.#fixed === undefined && held === 0 && this.#streaming &&
      this.#slow === 0;
  }

  /**
   * How many tasks to take beyond the free workers now.
   *
   * @param held The tasks the node has handed to its pool, not settled.
   * @param workers The pool's workers.
   * @param eager The read does not wait (`eager`).
   */
  ahead(held: number, workers: number, eager = false): number {
    if (this.#fixed !== undefined) return this.#fixed;
    if ((held === 0 && !eager) || this.#slow > 0) return 0;
    const depth = Math.floor(workers * AHEAD_MS / this.#quickMs);
    return Math.min(MAX_AHEAD, Math.max(1, depth));
  }

  /**
   * A task taken: whether its function is known quick (else it counts as
   * slow until `done`).
   */
  taken(record: TaskRecord): boolean {
    if (this.#fixed !== undefined) return true;
    const ms = this.#callTime(record);
    if (ms === undefined || ms > QUICK_MS) {
      this.#slow++;
      return false;
    }
    this.#quickMs = Math.max(TRIP_MS, ms);
    return true;
  }

  /**
   * A read asked for `asked` tasks, `free` of them for free workers, and
   * got `got`.
   */
  read(asked: number, free: number, got: number): void {
    this.#streaming = asked > free && got >= asked;
  }

  /** A task `taken` has left the pool. */
  done(quick: boolean): void {
    if (!quick) this.#slow--;
  }
}
