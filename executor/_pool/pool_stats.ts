// Runs on the main thread: the counts and timings behind a pool executor's
// stats(). Updated by WorkItem at each step of a task's life and by
// WorkerSlot as it turns busy and idle; fixed-size, however many tasks run.
import type { Future } from "../../future/future.ts";
import { Histogram } from "../_base/histogram.ts";

/** The pool's running totals. */
export class PoolStats {
  /** When the pool was made (performance.now()). */
  readonly created: number = performance.now();
  /** ms from start to settle, over completed and failed tasks. */
  readonly runTime: Histogram = new Histogram();
  /** ms from submit to start. */
  readonly waitTime: Histogram = new Histogram();
  /** Submitted, not started, not cancelled, not failed. */
  queued = 0;
  /** Started, not settled. */
  running = 0;
  completed = 0;
  failed = 0;
  cancelled = 0;
  /** Busy ms of the workers gone. */
  retiredBusyMs = 0;

  /**
   * A done callback for every task's future: counts cancellations, which
   * only a pending task can have, and which come from outside the pool.
   */
  readonly onDone = (future: Future<unknown>): void => {
    if (future.cancelled()) {
      this.queued--;
      this.cancelled++;
    }
  };
}
