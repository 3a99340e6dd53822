// Runs on the main thread: how long a call of each function takes in a
// worker (workers report each task's run time with its result), and from
// it how many tasks of that function the pool sends ahead to a busy worker.

// A busy worker is sent more tasks ahead (prefetch) only when every worker
// is busy and the task's function is known to be quick: enough to keep the
// worker busy for about BATCH_MS, at most MAX_PREFETCH. Deeper prefetch
// saves round trips for tiny tasks; none for slow or unknown functions keeps
// them spread evenly over the workers (a prefetched task cannot move to a
// worker that frees up), as Python's one-task-per-thread does. A round trip
// costs about 20 µs, so for a function slower than QUICK_MS a prefetch saves
// little, and it is not worth the risk of an uneven spread when the same
// function takes longer on other arguments (fib(25), then fib(30)).
const BATCH_MS = 2;
const MAX_PREFETCH = 512;
const QUICK_MS = 0.1;

/** The mean call time of each function the pool has run. */
export class CallTimes {
  // Per function id: the mean ms of a call, each new call weighing 0.3.
  readonly #ms = new Map<number, number>();

  /** Counts a call of function `fnId` that took `ms` in its worker. */
  record(fnId: number, ms: number): void {
    const mean = this.#ms.get(fnId);
    this.#ms.set(fnId, mean === undefined ? ms : mean * 0.7 + ms * 0.3);
  }

  /** The mean ms of a call of function `fnId`, if it has run. */
  mean(fnId: number): number | undefined {
    return this.#ms.get(fnId);
  }

  /**
   * How many tasks of function `fnId` a worker may hold at once: 1 unless
   * the function is known to be quick.
   */
  depth(fnId: number): number {
    const ms = this.#ms.get(fnId);
    if (ms === undefined || ms > QUICK_MS) return 1;
    return Math.min(MAX_PREFETCH, Math.floor(BATCH_MS / ms));
  }
}
