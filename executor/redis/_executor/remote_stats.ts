// The executor side: the counts and timings behind RedisExecutor.stats(),
// over this executor's tasks; fixed-size however many tasks run.
import { Histogram } from "../../_base/histogram.ts";
import { utilization } from "../../_base/utilization.ts";
import type { ExecutorStats } from "../../stats.ts";
import type { LiveNodes } from "./live_nodes.ts";
import type { RemoteTask } from "./remote_task.ts";

/** An executor's running totals. */
export class RemoteStats {
  /** Submitted, not started, not settled. */
  queued = 0;
  /** Started (a node said so) and not settled. */
  readonly running: Set<RemoteTask> = new Set();
  #completed = 0;
  #failed = 0;
  #cancelled = 0;
  // Run ms of the tasks settled.
  #busyMs = 0;
  readonly #runTime = new Histogram();
  readonly #waitTime = new Histogram();

  /**
   * A node reports `task` started `ago` ms before now.
   *
   * @returns false if it was counted as started already.
   */
  started(task: RemoteTask, ago: number): boolean {
    if (this.running.has(task)) return false;
    task.startedAt = performance.now() - ago;
    this.running.add(task);
    this.#waitTime.add(Math.max(0, task.startedAt - task.submittedAt));
    this.queued--;
    return true;
  }

  /** `task`'s future is done. */
  settled(task: RemoteTask): void {
    if (task.future.cancelled()) this.#cancelled++;
    else if (task.ok) this.#completed++;
    else this.#failed++;
    if (this.running.delete(task)) {
      const ms = performance.now() - task.startedAt;
      this.#busyMs += ms;
      this.#runTime.add(ms);
    } else this.queued--;
  }

  /**
   * The snapshot: `workers` counts the live nodes' workers as last read,
   * `busy` this executor's tasks running on them, `utilization` their run
   * time over the nodes' worker-time.
   */
  snapshot(nodes: LiveNodes, now: number): ExecutorStats {
    let busyMs = this.#busyMs;
    for (const task of this.running) busyMs += now - task.startedAt;
    const workers = nodes.workers;
    const capacity = nodes.capacity(now);
    const running = this.running.size;
    return {
      workers,
      busy: Math.min(running, workers),
      queued: this.queued,
      running,
      completed: this.#completed,
      failed: this.#failed,
      cancelled: this.#cancelled,
      // Retries are the executor's (its held tasks), not this count's.
      retried: 0,
      runTime: this.#runTime.summary(),
      waitTime: this.#waitTime.summary(),
      utilization: utilization(busyMs, capacity),
    };
  }
}
