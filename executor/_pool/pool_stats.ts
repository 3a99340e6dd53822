// Runs on the main thread: the counts and timings behind a pool executor's
// stats(). Updated by WorkItem at each step of a task's life and by
// WorkerSlot as it turns busy and idle; fixed-size, however many tasks run.
// The same steps go to `tap` when something listens (the dashboard).
import type { Future } from "../../future/future.ts";
import { Histogram } from "../_base/histogram.ts";
import { utilization } from "../_base/utilization.ts";
import type { ExecutorStats } from "../stats.ts";
import type { TaskTap } from "./tap.ts";

/** What a snapshot reads of a worker (a `WorkerSlot`). */
export interface BusyWorker {
  /** It has no task. */
  readonly idle: boolean;
  /** How long it has run tasks, in ms, up to `now`. */
  busyMs(now: number): number;
}

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
  /** Who listens to each task's steps; undefined (the rule): nobody. */
  tap: TaskTap | undefined = undefined;

  /**
   * A done callback for every task's future: counts cancellations, which
   * only a pending task can have, and which come from outside the pool.
   */
  readonly onDone = (future: Future<unknown>): void => {
    if (future.cancelled()) {
      this.queued--;
      this.cancelled++;
      this.tap?.settled(future, "cancelled", performance.now());
    }
  };

  /** A started task settled, `ok` or failed, after running `ms`. */
  settled(ok: boolean, ms: number): void {
    this.running--;
    if (ok) this.completed++;
    else this.failed++;
    this.runTime.add(ms);
  }

  /**
   * The pool's `stats()`: these totals, and the workers' state now.
   *
   * @param workers The pool's live workers.
   * @param maxWorkers The most workers it runs at once (its capacity).
   */
  snapshot(workers: Iterable<BusyWorker>, maxWorkers: number): ExecutorStats {
    const now = performance.now();
    let live = 0;
    let busy = 0;
    let busyMs = this.retiredBusyMs;
    for (const worker of workers) {
      live++;
      if (!worker.idle) busy++;
      busyMs += worker.busyMs(now);
    }
    return {
      workers: live,
      busy,
      queued: this.queued,
      running: this.running,
      completed: this.completed,
      failed: this.failed,
      cancelled: this.cancelled,
      // Retries are the executor's (its held tasks), not this count's.
      retried: 0,
      runTime: this.runTime.summary(),
      waitTime: this.waitTime.summary(),
      utilization: utilization(busyMs, maxWorkers * (now - this.created)),
    };
  }
}
