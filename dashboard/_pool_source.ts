// Runs on the main thread: the dashboard's source for a local pool
// (ThreadPoolExecutor, ProcessPoolExecutor): the pool's tap feeds a
// TaskHistory from the moment it is made; stats(), the live workers and the
// run-time histogram are read at each request; queued and done counts are
// sampled once a second for the Rates panel.
import type { PoolExecutor } from "../executor/pool_executor.ts";
import { ProcessPoolExecutor } from "../executor/process_pool_executor.ts";
import { type PoolView, poolView } from "../executor/_pool/pool_view.ts";
import { TaskHistory } from "./_history.ts";
import {
  jsonSafe,
  RUN_TIME_BOUNDS_MS,
  SAMPLE_MS,
  WINDOW_MS,
} from "./figures.ts";
import type {
  DashboardMemory,
  DashboardRate,
  DashboardSnapshot,
  DashboardSource,
  DashboardTask,
  MetricSeries,
} from "./source.ts";

/** A local pool, as its dashboard sees it. */
export class PoolSource implements DashboardSource {
  readonly #executor: PoolExecutor;
  readonly #pool: PoolView;
  readonly #history = new TaskHistory();
  readonly #stopListening: () => void;
  // Oldest first, one a second over the window.
  readonly #rates: DashboardRate[] = [];
  readonly #sampler: ReturnType<typeof setInterval>;
  readonly #memoryNote: string;

  /**
   * Starts watching a pool executor.
   *
   * @throws {TypeError} For an object that is not a pool executor.
   */
  constructor(executor: PoolExecutor) {
    const pool = poolView(executor);
    if (pool === undefined) {
      throw new TypeError(
        "Cannot serve dashboard as the executor is not a pool executor of this library",
      );
    }
    this.#executor = executor;
    this.#pool = pool;
    this.#stopListening = pool.listen(this.#history);
    this.#memoryNote = executor instanceof ProcessPoolExecutor
      ? "this program only: each worker is a process of its own, not measured"
      : "the whole process: the program and its worker threads (per thread unknown)";
    this.#sample();
    this.#sampler = setInterval(() => this.#sample(), SAMPLE_MS);
  }

  snapshot(): DashboardSnapshot {
    const now = Date.now();
    const stats = this.#executor.stats();
    const history = this.#history;
    const tasks = history.tasks(now);
    for (const task of tasks) {
      if (task.progress !== undefined) task.progress = jsonSafe(task.progress);
    }
    const live = this.#pool.workers();
    const keep = new Set(live.map((worker) => worker.name));
    for (const task of tasks) keep.add(task.worker);
    history.forgetWorkersBut(keep);
    return {
      title: this.#executor.constructor.name,
      now,
      window: WINDOW_MS,
      stats,
      memory: this.#memory(),
      workers: live.map(({ name, tasks }) => ({
        id: name,
        workers: 1,
        busy: tasks > 0 ? 1 : 0,
        ...history.workerCounts(name),
      })),
      tasks: tasks as DashboardTask[],
      functions: history.functions(),
      rates: [...this.#rates],
      failures: history.failures(),
    };
  }

  metrics(): MetricSeries[] {
    // Read together, so the histogram's count is stats().runTime.count.
    const stats = this.#executor.stats();
    const runTime = this.#pool.runTime;
    return [{
      stats,
      runSeconds: {
        le: RUN_TIME_BOUNDS_MS.map((ms) => ms / 1000),
        counts: runTime.countUpTo(RUN_TIME_BOUNDS_MS),
        sum: runTime.sum / 1000,
        count: runTime.count,
      },
    }];
  }

  close(): void {
    clearInterval(this.#sampler);
    this.#stopListening();
  }

  #sample(): void {
    const { completed, failed, queued, running } = this.#executor.stats();
    const rates = this.#rates;
    rates.push({ at: Date.now(), completed, failed, queued, running });
    if (rates.length > WINDOW_MS / SAMPLE_MS) rates.shift();
  }

  #memory(): DashboardMemory {
    const { rss, heapUsed, heapTotal } = Deno.memoryUsage();
    return { rss, heapUsed, heapTotal, note: this.#memoryNote };
  }
}
