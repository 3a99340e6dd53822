// Runs on the main thread: what every dashboard source keeps and samples
// alike, so that the page reads a pool and a Redis queue the same way. Not
// exported by mod.ts; the Redis queue's source (executor/redis/_dashboard/)
// imports it with the public types of source.ts.

/** How far back the Task stream and Rates go, in ms. */
export const WINDOW_MS = 5 * 60_000;

/** How often the Rates panel gets a point; the page polls at the same pace. */
export const SAMPLE_MS = 1000;

/**
 * The run-time histogram's bounds in ms: edges of the library's own
 * histogram (executor/_base/histogram.ts: a power of two times 1 + n/32),
 * so each count is exact, from 1 ms to 102.4 s.
 */
export const RUN_TIME_BOUNDS_MS: readonly number[] = [
  1,
  2.5,
  5,
  10,
  25,
  50,
  100,
  200,
  400,
  800,
  1600,
  3200,
  6400,
  12800,
  25600,
  51200,
  102400,
  Infinity,
];
