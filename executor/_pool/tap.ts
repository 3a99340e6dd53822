// Runs on the main thread: the pool's event tap, the one thing of the pool
// a watcher outside it (the dashboard) listens to. A pool without a
// listener only tests one field per event (`PoolStats.tap`, undefined):
// nothing is allocated or recorded for anyone.
import type { Future } from "../../future/future.ts";

/** How a task left the pool. */
export type TapOutcome = "completed" | "failed" | "cancelled";

/**
 * What a pool tells its listener about each task, keyed by the task's
 * future. Times are `performance.now()` readings. A listener must not throw
 * and must be quick: it runs inside the scheduler.
 */
export interface TaskTap {
  /** A task was queued: the pool's id for it and its function's name. */
  submitted(future: Future<unknown>, id: number, fn: string, at: number): void;
  /**
   * A task was sent to `worker` (the worker's name); again, to another
   * worker, if it goes back to the queue when its first worker dies
   * before starting it.
   */
  started(future: Future<unknown>, worker: string, at: number): void;
  /** A running task reported progress (`reportProgress`). */
  progress(future: Future<unknown>, value: unknown): void;
  /**
   * A task settled at `at`: `ms` is how long it ran as its worker measured
   * it, when known; `error` what it failed with.
   */
  settled(
    future: Future<unknown>,
    outcome: TapOutcome,
    at: number,
    ms?: number,
    error?: unknown,
  ): void;
}

/** One tap that tells every listener in `taps`, in order. */
export function fanOut(taps: readonly TaskTap[]): TaskTap {
  return {
    submitted: (future, id, fn, at) => {
      for (const tap of taps) tap.submitted(future, id, fn, at);
    },
    started: (future, worker, at) => {
      for (const tap of taps) tap.started(future, worker, at);
    },
    progress: (future, value) => {
      for (const tap of taps) tap.progress(future, value);
    },
    settled: (future, outcome, at, ms, error) => {
      for (const tap of taps) tap.settled(future, outcome, at, ms, error);
    },
  };
}
