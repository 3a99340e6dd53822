// Runs on the main thread: what a watcher of a pool executor (the
// dashboard) may read of its pool, found by the executor, without a public
// API: the task tap, the live workers, the run-time histogram.
import { stateOf } from "./submit.ts";
import type { Histogram } from "../_base/histogram.ts";
import type { TaskTap } from "./tap.ts";
import type { WorkerView } from "./pool.ts";

export type { TaskTap, WorkerView };
export type { TapOutcome } from "./tap.ts";

/** A pool, as a watcher reads it. */
export interface PoolView {
  /** The most workers it runs at once. */
  readonly maxWorkers: number;
  /** The run times (ms, start to settle) behind `stats().runTime`. */
  readonly runTime: Pick<Histogram, "count" | "sum" | "countUpTo">;
  /** Tells `tap` every task's steps until the returned function is called. */
  listen(tap: TaskTap): () => void;
  /** The live workers, oldest first. */
  workers(): WorkerView[];
}

/** The pool of a pool executor, or `undefined` for any other object. */
export function poolView(executor: object): PoolView | undefined {
  return stateOf(executor)?.pool;
}
