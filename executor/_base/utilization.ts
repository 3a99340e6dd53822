// Runs on the main thread: the `utilization` of an executor's stats(), one
// rule for every executor.

/**
 * Busy worker-time over the worker-time there was, from 0 to 1.
 *
 * @param busyMs Milliseconds the workers spent running tasks.
 * @param capacity Milliseconds of worker-time there was (for a pool:
 * `maxWorkers` × the time it has existed).
 * @returns The ratio, at most 1; 0 while there was no capacity.
 */
export function utilization(busyMs: number, capacity: number): number {
  return capacity > 0 ? Math.min(1, busyMs / capacity) : 0;
}
