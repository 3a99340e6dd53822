/**
 * What the dashboard shows, and where it gets it: a `DashboardSource` per
 * executor, made by the factory registered for the executor's class
 * (`registerDashboardSource`). The snapshot types are the JSON of
 * `/api/snapshot`.
 *
 * @module
 */
import type { ExecutorStats } from "../executor/stats.ts";

/**
 * One row of the Workers panel: a worker of a local pool, or a live node of
 * a Redis queue (`workers` > 1).
 */
export interface DashboardWorker {
  /** Unique among the rows: a worker's name, or a node's id. */
  id: string;
  /** The node it belongs to, for a Redis queue. */
  node?: string;
  /** The node's labels, for a Redis queue. */
  labels?: string[];
  /** The workers this row stands for: 1 for a worker, a node's count. */
  workers: number;
  /** How many of them run a task now. */
  busy: number;
  /** Tasks it completed, as far as the source has seen. */
  completed: number;
  /** Tasks it failed, as far as the source has seen. */
  failed: number;
  /** Its memory in bytes, where the source can know it. */
  memory?: number;
}

/** A task's outcome so far, as the page shows it. */
export type DashboardOutcome = "running" | "completed" | "failed" | "cancelled";

/** A task in the Task stream: running, or finished within the window. */
export interface DashboardTask {
  /** The task's id within its source. */
  id: string;
  /** Its function's name (a module task's export name). */
  fn: string;
  /** The worker that ran it: a `DashboardWorker.id`, or a node's worker. */
  worker: string;
  /** The node that ran it, for a Redis queue. */
  node?: string;
  /** When it started, in ms since the epoch. */
  start: number;
  /** When it ended, in ms since the epoch; absent while it runs. */
  end?: number;
  /** How it ended, or `"running"`. */
  outcome: DashboardOutcome;
  /** The latest value it reported with `reportProgress`, while it runs. */
  progress?: unknown;
}

/** The Progress panel's row of one function. */
export interface DashboardFunction {
  /** The function's name. */
  name: string;
  /** Tasks of it submitted, as far as the source has seen. */
  total: number;
  /** Of them, waiting for a worker. */
  queued: number;
  /** Of them, running. */
  running: number;
  /** Of them, completed. */
  completed: number;
  /** Of them, failed. */
  failed: number;
  /** Of them, cancelled. */
  cancelled: number;
}

/** A failed task, in the Failures panel. */
export interface DashboardFailure {
  /** The task's id within its source. */
  id: string;
  /** Its function's name. */
  fn: string;
  /** The worker it ran on, if it started. */
  worker?: string;
  /** The node it ran on, for a Redis queue. */
  node?: string;
  /** When it failed, in ms since the epoch. */
  at: number;
  /** The error's `name`. */
  name: string;
  /** The error's `message`. */
  message: string;
  /** The error's `stack`, if it has one. */
  stack?: string;
}

/** One sample of the Rates panel, taken about once a second. */
export interface DashboardRate {
  /** When, in ms since the epoch. */
  at: number;
  /** `stats().completed` then (the page derives tasks per second). */
  completed: number;
  /** `stats().failed` then. */
  failed: number;
  /** `stats().queued` then. */
  queued: number;
  /** `stats().running` then. */
  running: number;
}

/** Memory of the program serving the dashboard, in bytes. */
export interface DashboardMemory {
  /** Resident set size of the whole process. */
  rss: number;
  /** V8 heap used by the main thread. */
  heapUsed: number;
  /** V8 heap reserved by the main thread. */
  heapTotal: number;
  /** What the figures cover, in a sentence, for the page. */
  note: string;
}

/** What `/api/snapshot` returns: everything the page shows. */
export interface DashboardSnapshot {
  /** What is watched, e.g. `"ThreadPoolExecutor"`. */
  title: string;
  /** When the snapshot was taken, in ms since the epoch. */
  now: number;
  /** How far back the history goes, in ms. */
  window: number;
  /** The executor's `stats()`, taken with the rest. */
  stats: ExecutorStats;
  /** Memory, where the source knows it. */
  memory?: DashboardMemory;
  /** The Workers panel. */
  workers: DashboardWorker[];
  /** The Task stream: running tasks and those finished within `window`. */
  tasks: DashboardTask[];
  /** The Progress panel, one row per function. */
  functions: DashboardFunction[];
  /** The Rates panel's samples, oldest first. */
  rates: DashboardRate[];
  /** The Failures panel, newest first. */
  failures: DashboardFailure[];
}

/**
 * Run times in seconds as a Prometheus histogram: for each upper bound
 * `le` (ascending, the last `Infinity`), how many took at most that long.
 */
export interface RunSeconds {
  /** The buckets' upper bounds, in seconds, ascending, the last Infinity. */
  le: number[];
  /** Cumulative counts, one per bound. */
  counts: number[];
  /** The sum of the run times, in seconds. */
  sum: number;
  /** How many run times (equal to the last count). */
  count: number;
}

/**
 * One set of figures for `/metrics`: the executor's, or (for a Redis queue)
 * one node's, told apart by `labels` (e.g. `{ node: "a1" }`).
 */
export interface MetricSeries {
  /** Labels added to each sample of the series. */
  labels?: Record<string, string>;
  /** The counts and gauges. */
  stats: ExecutorStats;
  /** The run-time histogram, if the source has it. */
  runSeconds?: RunSeconds;
}

/**
 * Where a dashboard reads what it serves. One per served dashboard, made
 * for an executor by the factory registered for its class; closed with the
 * dashboard.
 */
export interface DashboardSource {
  /** What the page shows (the JSON of `/api/snapshot`). */
  snapshot(): DashboardSnapshot | Promise<DashboardSnapshot>;
  /** What `/metrics` shows. */
  metrics(): MetricSeries[] | Promise<MetricSeries[]>;
  /** Stops watching: no timer or listener of the source is left. */
  close(): void | Promise<void>;
}

/**
 * Makes the source for one executor of a registered class.
 *
 * @typeParam E The executor class's instances.
 */
export type DashboardSourceFactory<E extends object> = (
  executor: E,
) => DashboardSource;
