/**
 * `registerDashboardSource`: how `serveDashboard` watches the executors of
 * a class.
 *
 * @module
 */
import { setFactory } from "./_registry.ts";
import type { DashboardSourceFactory } from "./source.ts";

/**
 * Registers how `serveDashboard` watches executors of a class and its
 * subclasses: `factory` makes one `DashboardSource` per served dashboard,
 * and the dashboard closes it with itself. The library registers its own
 * executors; this is for an executor of one's own. A later registration
 * for the same class replaces the earlier one.
 *
 * @typeParam E The class's instances.
 * @param kind The executor class.
 * @param factory Makes the source for one executor.
 *
 * @example Watch an executor of one's own
 * ```ts
 * import {
 *   type DashboardSnapshot,
 *   registerDashboardSource,
 *   serveDashboard,
 *   ThreadPoolExecutor,
 * } from "@concurrent/futures";
 * import assert from "node:assert/strict";
 *
 * class LoggingPool extends ThreadPoolExecutor {}
 * registerDashboardSource(LoggingPool, (pool) => ({
 *   snapshot: (): DashboardSnapshot => ({
 *     title: "LoggingPool",
 *     now: Date.now(),
 *     window: 0,
 *     stats: pool.stats(),
 *     workers: [],
 *     tasks: [],
 *     functions: [],
 *     rates: [],
 *     failures: [],
 *   }),
 *   metrics: () => [{ stats: pool.stats() }],
 *   close: () => {},
 * }));
 *
 * await using pool = new LoggingPool({ maxWorkers: 1 });
 * await using board = serveDashboard(pool);
 * const snapshot = await fetch(new URL("/api/snapshot", board.url))
 *   .then((response) => response.json());
 * assert.equal(snapshot.title, "LoggingPool");
 * ```
 */
export function registerDashboardSource<E extends object>(
  kind: { readonly prototype: E },
  factory: DashboardSourceFactory<E>,
): void {
  if (
    kind === null || (typeof kind !== "function" && typeof kind !== "object") ||
    typeof kind.prototype !== "object" || typeof factory !== "function"
  ) {
    throw new TypeError(
      "Cannot register dashboard source as 'kind' must be a class and 'factory' a function",
    );
  }
  setFactory(kind.prototype, factory);
}
