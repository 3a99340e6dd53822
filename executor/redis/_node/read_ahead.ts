// The node side: how many tasks a node takes beyond its free workers
// (SPEC "Speed by default"). A number is a fixed read-ahead. "auto" learns
// from the run times the node measures: it takes ahead only while it runs
// tasks of functions seen to finish quickly — as many as its workers finish
// within AHEAD_MS — and none while it holds a slow or unknown one, or has
// nothing to run (an idle node reads only for its free workers, so a burst
// of long tasks spreads over the nodes instead of queueing on the first).
//
//   idle ── reads for free workers ── quick? ── reads ahead in batches
//                                       └─ slow or unknown: free workers only
import type { TaskRecord } from "../_wire/records.ts";

// A function is quick while its mean run time (hand-over to the pool to
// its outcome, as the node measures it) is at most this.
const QUICK_MS = 5;
// "auto" takes ahead what its workers finish in about this long...
const AHEAD_MS = 4;
// ...and never more than this many.
const MAX_AHEAD = 64;
// Functions remembered; past it the oldest are forgotten.
const MAX_FUNCTIONS = 1_000;

/** A node's read-ahead: fixed, or learnt ("auto"). */
export class ReadAhead {
  readonly #fixed: number | undefined;
  // Per function: the mean ms of a run, each new run weighing 0.3.
  readonly #ms = new Map<string, number>();
  // Held tasks of functions not known quick (running or waiting).
  #slow = 0;
  // The mean ms of the quick runs, for the read-ahead's depth.
  #quickMs = QUICK_MS;

  constructor(prefetch: number | "auto") {
    this.#fixed = prefetch === "auto" ? undefined : prefetch;
  }

  /**
   * How many tasks to take beyond the free workers now.
   *
   * @param held The tasks the node holds.
   * @param workers The pool's workers.
   */
  ahead(held: number, workers: number): number {
    if (this.#fixed !== undefined) return this.#fixed;
    if (held === 0 || this.#slow > 0) return 0;
    const depth = Math.floor(workers * AHEAD_MS / this.#quickMs);
    return Math.min(MAX_AHEAD, Math.max(1, depth));
  }

  /**
   * A task taken: whether its function is known quick (else it counts as
   * slow until `done`).
   */
  taken(record: TaskRecord): boolean {
    const ms = this.#ms.get(functionKey(record));
    const quick = ms !== undefined && ms <= QUICK_MS;
    if (!quick) this.#slow++;
    return quick;
  }

  /** A task taken with `taken` is done; `ms` its run time, if it ran. */
  done(record: TaskRecord, quick: boolean, ms: number | undefined): void {
    if (!quick) this.#slow--;
    if (ms === undefined) return;
    const key = functionKey(record);
    const mean = this.#ms.get(key);
    const next = mean === undefined ? ms : mean * 0.7 + ms * 0.3;
    this.#ms.delete(key);
    this.#ms.set(key, next);
    if (this.#ms.size > MAX_FUNCTIONS) {
      this.#ms.delete(this.#ms.keys().next().value!);
    }
    if (next <= QUICK_MS) {
      this.#quickMs = Math.max(0.05, this.#quickMs * 0.7 + next * 0.3);
    }
  }
}

// What tells two tasks' functions apart: a module's URL and export, or the
// function's source.
function functionKey(record: TaskRecord): string {
  const fn = record.fn as { source?: string; module?: string; name?: string };
  return fn.source ?? `${fn.module}#${fn.name}`;
}
