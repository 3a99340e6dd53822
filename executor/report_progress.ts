/**
 * `reportProgress`: a running task tells its future how far it has come.
 *
 * @module
 */

// Where a worker puts the reporter of the task it runs (see
// _worker/progress.ts); absent outside a worker.
const REPORTER = Symbol.for("@concurrent/futures/reportProgress");

/**
 * Called inside a running task, sends `value` (structured-cloneable) to that
 * task's future, whose `addProgressCallback` callbacks get it. Anywhere else
 * it does nothing. Values are coalesced (latest wins) to a few messages a
 * second per task, and the last one sent always arrives before the
 * outcome, so calling it in a tight loop costs little. It is also a global
 * of every worker, so a self-contained function task can call it by name.
 *
 * @param value How far the task has come: a number, an object, any
 * cloneable value.
 * @throws {DOMException} `DataCloneError` for a value that cannot be cloned.
 *
 * @example Report from a module task
 * ```ts
 * import { reportProgress } from "@concurrent/futures";
 *
 * export function countTo(n: number): number {
 *   for (let i = 1; i <= n; i++) {
 *     if (i % 1000 === 0) reportProgress({ done: i, of: n });
 *   }
 *   return n;
 * }
 * countTo(10); // outside a task: reports nothing
 * ```
 */
export function reportProgress(value: unknown): void {
  const reporter = (globalThis as Record<symbol, unknown>)[REPORTER];
  if (typeof reporter === "function") reporter(value);
}
