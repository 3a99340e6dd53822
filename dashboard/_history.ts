// Runs on the main thread: what a dashboard remembers of a local pool's
// tasks, fed by the pool's tap (executor/_pool/tap.ts) from the moment it
// is attached. Bounded whatever runs: the live tasks (the pool holds them
// anyway), the last MAX_FINISHED finished ones within the window, the last
// MAX_FAILURES errors, and a row per function (at most MAX_FUNCTIONS).
import type { Future } from "../future/future.ts";
import type { TapOutcome, TaskTap } from "../executor/_pool/pool_view.ts";
import type {
  DashboardFailure,
  DashboardFunction,
  DashboardTask,
} from "./source.ts";
import {
  functionRow,
  MAX_FAILURES,
  MAX_FINISHED,
  WINDOW_MS,
} from "./figures.ts";

export { WINDOW_MS };

// A task queued or running (start: 0 while queued).
interface LiveTask {
  id: string;
  fn: DashboardFunction;
  worker: string;
  start: number;
  progress?: unknown;
}

// Counts of one worker, while it is live or has tasks in the window.
interface WorkerCounts {
  completed: number;
  failed: number;
}

// performance.now() readings to ms since the epoch.
const epoch = (at: number) => performance.timeOrigin + at;

/** A pool's recent tasks, per function and per worker. */
export class TaskHistory implements TaskTap {
  readonly #live = new Map<Future<unknown>, LiveTask>();
  // Oldest first; trimmed to MAX_FINISHED and to the window.
  #finished: DashboardTask[] = [];
  // Newest last; trimmed to MAX_FAILURES.
  #failures: DashboardFailure[] = [];
  readonly #functions = new Map<string, DashboardFunction>();
  readonly #workers = new Map<string, WorkerCounts>();

  submitted(future: Future<unknown>, id: number, fn: string): void {
    const row = this.#function(fn);
    row.total++;
    row.queued++;
    this.#live.set(future, { id: String(id), fn: row, worker: "", start: 0 });
  }

  started(future: Future<unknown>, worker: string, at: number): void {
    const task = this.#live.get(future);
    if (task === undefined) return;
    if (task.start === 0) {
      task.fn.queued--;
      task.fn.running++;
    }
    task.worker = worker;
    task.start = epoch(at);
  }

  progress(future: Future<unknown>, value: unknown): void {
    const task = this.#live.get(future);
    if (task !== undefined) task.progress = value;
  }

  settled(
    future: Future<unknown>,
    outcome: TapOutcome,
    at: number,
    ms?: number,
    error?: unknown,
  ): void {
    const task = this.#live.get(future);
    if (task === undefined) return;
    this.#live.delete(future);
    const fn = task.fn;
    if (task.start === 0) fn.queued--;
    else fn.running--;
    fn[outcome]++;
    const end = epoch(at);
    if (task.start !== 0) {
      const counts = this.#worker(task.worker);
      if (outcome === "completed") counts.completed++;
      else counts.failed++;
      // The worker's own measure, when it has one: a task sent ahead to a
      // busy worker waited there before it ran.
      const start = ms === undefined
        ? task.start
        : Math.max(task.start, end - ms);
      this.#finished.push({
        id: task.id,
        fn: fn.name,
        worker: task.worker,
        start,
        end,
        outcome,
      });
      if (this.#finished.length > MAX_FINISHED * 1.25) {
        this.#finished = this.#finished.slice(-MAX_FINISHED);
      }
    }
    if (outcome === "failed") {
      this.#failures.push({
        id: task.id,
        fn: fn.name,
        worker: task.start === 0 ? undefined : task.worker,
        at: end,
        ...describeError(error),
      });
      if (this.#failures.length > MAX_FAILURES * 2) {
        this.#failures = this.#failures.slice(-MAX_FAILURES);
      }
    }
  }

  /** The running tasks and those finished within the window, oldest first. */
  tasks(now: number): DashboardTask[] {
    const since = now - WINDOW_MS;
    const finished = this.#finished;
    let first = Math.max(0, finished.length - MAX_FINISHED);
    while (first < finished.length && finished[first].end! < since) first++;
    if (first > 0) this.#finished = finished.slice(first);
    const running: DashboardTask[] = [];
    for (const task of this.#live.values()) {
      if (task.start === 0) continue;
      running.push({
        id: task.id,
        fn: task.fn.name,
        worker: task.worker,
        start: task.start,
        outcome: "running",
        progress: task.progress,
      });
    }
    return [...this.#finished, ...running];
  }

  /** The latest failures, newest first. */
  failures(): DashboardFailure[] {
    return this.#failures.slice(-MAX_FAILURES).reverse();
  }

  /** One row per function, in the order first seen. */
  functions(): DashboardFunction[] {
    return [...this.#functions.values()].map((row) => ({ ...row }));
  }

  /** The tasks a worker completed and failed (since attached). */
  workerCounts(name: string): WorkerCounts {
    return this.#workers.get(name) ?? { completed: 0, failed: 0 };
  }

  /**
   * Forgets the counts of the workers not in `keep` (a pool replaces its
   * workers, so new names keep coming).
   */
  forgetWorkersBut(keep: ReadonlySet<string>): void {
    for (const name of this.#workers.keys()) {
      if (!keep.has(name)) this.#workers.delete(name);
    }
  }

  #function(name: string): DashboardFunction {
    return functionRow(this.#functions, name);
  }

  #worker(name: string): WorkerCounts {
    let counts = this.#workers.get(name);
    if (counts === undefined) {
      this.#workers.set(name, counts = { completed: 0, failed: 0 });
    }
    return counts;
  }
}

// Name, message and stack of whatever was thrown (an Error rebuilt from its
// worker's record, or any value).
function describeError(
  error: unknown,
): Pick<DashboardFailure, "name" | "message" | "stack"> {
  if (error instanceof Error) {
    return {
      name: String(error.name),
      message: String(error.message),
      stack: typeof error.stack === "string" ? error.stack : undefined,
    };
  }
  let message: string;
  try {
    message = typeof error === "string" ? error : JSON.stringify(error);
  } catch {
    message = String(error);
  }
  return { name: typeof error, message: message ?? String(error) };
}
