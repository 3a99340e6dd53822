/**
 * `ExecutorStats`: what an executor's `stats()` returns.
 *
 * @module
 */

/** A distribution of durations in ms, from a fixed-size histogram. */
export interface Summary {
  /** How many were measured. */
  count: number;
  /** Their mean (exact). */
  mean: number;
  /** The median, within about 3%. */
  p50: number;
  /** The 90th percentile, within about 3%. */
  p90: number;
  /** The 99th percentile, within about 3%. */
  p99: number;
  /** The longest (exact). */
  max: number;
}

/** A snapshot of what an executor is doing and has done. */
export interface ExecutorStats {
  /** Workers alive now. */
  workers: number;
  /** Workers running a task now. */
  busy: number;
  /** Tasks waiting for a worker. */
  queued: number;
  /** Tasks started and not settled. */
  running: number;
  /** Tasks settled with a value. */
  completed: number;
  /** Tasks settled with an error. */
  failed: number;
  /** Tasks cancelled before they started. */
  cancelled: number;
  /**
   * Times a task ran again after it failed (`retries`); each attempt is
   * counted in `completed` or `failed` too.
   */
  retried: number;
  /** ms from a task's start to its settling, over completed and failed. */
  runTime: Summary;
  /** ms from a task's submit to its start. */
  waitTime: Summary;
  /**
   * 0..1: busy worker-time over `maxWorkers` × the time the executor has
   * existed.
   */
  utilization: number;
}
