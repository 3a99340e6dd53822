// Runs on the main thread: what every dashboard source keeps and samples
// alike, so that the page reads a pool and a Redis queue the same way. Not
// exported by mod.ts; the Redis queue's source (executor/redis/_dashboard/)
// imports it with the public types of source.ts.
import type { DashboardFunction } from "./source.ts";

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

/**
 * Finished tasks kept for the Task stream: past a few thousand bars the
 * page cannot tell them apart anyway, and each poll sends them all.
 */
export const MAX_FINISHED = 2000;
/** Errors kept for the Failures panel, stacks included. */
export const MAX_FAILURES = 50;
/** Function rows: names come from code, so few; past this, one "(other)". */
const MAX_FUNCTIONS = 200;
const OTHER = "(other)";

/**
 * The Progress row of function `name` in `rows`, made on first use; past
 * MAX_FUNCTIONS rows, the "(other)" row.
 */
export function functionRow(
  rows: Map<string, DashboardFunction>,
  name: string,
): DashboardFunction {
  let row = rows.get(name);
  if (row === undefined) {
    if (rows.size >= MAX_FUNCTIONS && name !== OTHER) {
      return functionRow(rows, OTHER);
    }
    row = {
      name,
      total: 0,
      queued: 0,
      running: 0,
      completed: 0,
      failed: 0,
      cancelled: 0,
    };
    rows.set(name, row);
  }
  return row;
}

// A progress value longer than this, as JSON, is kept as its start: an
// event stream holds thousands, and the page shows a short text.
const MAX_PROGRESS_CHARS = 200;

/**
 * A progress value as JSON keeps it: a BigInt as "12n", cut short when
 * long, or its string form when JSON cannot hold it (a cycle, a function).
 */
export function jsonSafe(value: unknown): unknown {
  let json: string | undefined;
  try {
    json = JSON.stringify(
      value,
      (_, v) => typeof v === "bigint" ? `${v}n` : v,
    );
  } catch {
    return String(value);
  }
  if (json === undefined) return String(value);
  return json.length > MAX_PROGRESS_CHARS
    ? `${json.slice(0, MAX_PROGRESS_CHARS)}…`
    : JSON.parse(json);
}
