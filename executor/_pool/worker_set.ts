// Runs on the main thread: the pool's live workers, and those told to stop
// that are not gone yet (processes exiting). It answers the scheduler's
// questions (an idle worker, the least loaded one, the one holding a task)
// and stops idle workers once idleTimeout has passed.
import type { PoolStats } from "./pool_stats.ts";
import type { WorkItem } from "./work_item.ts";
import type { WorkerSlot } from "./worker_slot.ts";

/** The pool's workers. */
export class WorkerSet implements Iterable<WorkerSlot> {
  readonly #slots = new Set<WorkerSlot>();
  // Workers told to stop that are not gone yet (processes exiting).
  readonly #exiting = new Set<Promise<void>>();
  readonly #maxTasksPerWorker: number;
  readonly #idleTimeout: number;
  readonly #stats: PoolStats;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;

  /**
   * @param maxTasksPerWorker A worker is replaced after this many tasks.
   * @param idleTimeout An idle worker stops after this many ms.
   * @param stats Where a stopped worker's busy time is kept.
   */
  constructor(
    maxTasksPerWorker: number,
    idleTimeout: number,
    stats: PoolStats,
  ) {
    this.#maxTasksPerWorker = maxTasksPerWorker;
    this.#idleTimeout = idleTimeout;
    this.#stats = stats;
  }

  /** How many workers are live. */
  get size(): number {
    return this.#slots.size;
  }

  /** No live worker has a task. */
  get idle(): boolean {
    for (const slot of this.#slots) {
      if (!slot.idle) return false;
    }
    return true;
  }

  [Symbol.iterator](): IterableIterator<WorkerSlot> {
    return this.#slots.values();
  }

  /** Adds a worker just started. */
  add(slot: WorkerSlot): void {
    this.#slots.add(slot);
  }

  /** Whether `slot` is live (not stopped). */
  has(slot: WorkerSlot): boolean {
    return this.#slots.has(slot);
  }

  /** An idle worker that may take a task. */
  idleSlot(): WorkerSlot | undefined {
    const max = this.#maxTasksPerWorker;
    for (const slot of this.#slots) {
      if (slot.idle && slot.takes(max)) return slot;
    }
    return undefined;
  }

  /** The worker with the fewest tasks, if it holds fewer than `depth`. */
  leastLoaded(depth: number): WorkerSlot | undefined {
    const max = this.#maxTasksPerWorker;
    let best: WorkerSlot | undefined;
    for (const slot of this.#slots) {
      if (
        slot.takes(max) && slot.inflight.length < depth &&
        (best === undefined || slot.inflight.length < best.inflight.length)
      ) {
        best = slot;
      }
    }
    return best;
  }

  /** The worker `item` was sent to, if it is live. */
  holding(item: WorkItem): WorkerSlot | undefined {
    for (const slot of this.#slots) {
      if (slot.inflight.includes(item)) return slot;
    }
    return undefined;
  }

  /** Stops a worker and takes it out; its tasks stay in its `inflight`. */
  remove(slot: WorkerSlot): void {
    this.#slots.delete(slot);
    this.#stats.retiredBusyMs += slot.busyMs(performance.now());
    const gone = slot.stop();
    if (gone !== undefined) {
      this.#exiting.add(gone);
      gone.finally(() => this.#exiting.delete(gone));
    }
  }

  /** Stops every worker, and the idle sweep. */
  stopAll(): void {
    for (const slot of this.#slots) this.remove(slot);
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
  }

  /** Settles once every worker stopped so far is gone, processes included. */
  gone(): Promise<unknown> {
    return Promise.all(this.#exiting);
  }

  /** Starts the idle sweep if there are workers and it is not running. */
  sweepIdle(): void {
    if (this.#slots.size > 0 && this.#idleTimer === undefined) {
      this.#sweepAfter(this.#idleTimeout);
    }
  }

  // An idle Deno Worker keeps its program alive forever, so idle workers
  // exit after idleTimeout; one timer serves them all.
  #sweepAfter(delay: number): void {
    if (delay === Infinity) return;
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      const now = performance.now();
      const timeout = this.#idleTimeout;
      let next = Infinity;
      for (const slot of this.#slots) {
        if (!slot.idle) continue;
        const left = slot.idleSince + timeout - now;
        if (left <= 1) this.remove(slot);
        else next = Math.min(next, left);
      }
      if (next !== Infinity) this.#sweepAfter(next);
    }, delay);
  }
}
