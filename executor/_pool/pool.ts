// Runs on the main thread: the scheduler behind both pool executors. It
// owns the queue, decides which worker gets which task (an idle one first,
// then a new one, then, for quick functions only, a busy one ahead of
// time), settles futures from workers' results, and replaces a worker that
// dies, times out or is aborted, failing only the task it ran. Workers are
// reached through `SpawnWorker`, so a thread and a process are the same
// here. See ARCHITECTURE.md for the whole data flow.
import type { Future } from "../../future/future.ts";
import { BrokenExecutorError, TimeoutError } from "../../future/errors.ts";
import {
  type FromWorker,
  type FunctionSpec,
  PROTOCOL as P,
  RESULT,
  type StatusMark,
} from "../_wire/protocol.ts";
import { fromRecord } from "../_wire/error_record.ts";
import type { SpawnWorker } from "./transport.ts";
import { TaskQueue } from "./task_queue.ts";
import { type TaskOptions, WorkItem } from "./work_item.ts";
import { WorkerSlot } from "./worker_slot.ts";
import { PoolStats } from "./pool_stats.ts";
import type { ExecutorStats } from "../stats.ts";

export type { TaskOptions };

/** What the pool needs to know, already validated. */
export interface PoolOptions {
  spawn: SpawnWorker;
  maxWorkers: number;
  maxTasksPerWorker: number;
  idleTimeout: number;
  name: string;
  initializer?: FunctionSpec;
  initargs?: unknown[];
  /** Called once every worker is gone after close or break. */
  onClosed?: () => Promise<void>;
}

// How long the pool waits for a dead worker's FATAL message (which names the
// task it was running) after the worker's error event, before blaming the
// oldest task it was sent. The message was posted before the event fired, so
// it normally lands within a turn of the event loop.
const LAST_WORDS_MS = 100;
// A busy worker is sent more tasks ahead (prefetch) only when every worker
// is busy and the task's function is known to be quick: enough to keep the
// worker busy for about BATCH_MS, at most MAX_PREFETCH. Deeper prefetch
// saves round trips for tiny tasks; none for slow or unknown functions keeps
// them spread evenly over the workers (a prefetched task cannot move to a
// worker that frees up), as Python's one-task-per-thread does. A round trip
// costs about 20 µs, so for a function slower than QUICK_MS a prefetch saves
// little, and it is not worth the risk of an uneven spread when the same
// function takes longer on other arguments (fib(25), then fib(30)).
const BATCH_MS = 2;
const MAX_PREFETCH = 512;
const QUICK_MS = 0.1;

/** The scheduler behind `ThreadPoolExecutor` and `ProcessPoolExecutor`. */
export class Pool {
  readonly #options: PoolOptions;
  readonly #queue = new TaskQueue();
  readonly #slots = new Set<WorkerSlot>();
  // Workers told to stop that are not gone yet (processes exiting).
  readonly #exiting = new Set<Promise<void>>();
  #nextId = 1;
  #workerCount = 0;
  #pumpScheduled = false;
  #pumping = false;
  #pumpAgain = false;
  // Per function id: the mean time a call took in a worker (workers report
  // each task's run time with its result).
  readonly #fnMs = new Map<number, number>();
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  #broken: BrokenExecutorError | undefined;
  #closing = false;
  #closed: PromiseWithResolvers<void> | undefined;
  readonly #stats = new PoolStats();
  // A clock reading shared by what happens in one turn (a burst of
  // submits, their dispatch; a message's results): performance.now() costs
  // about 0.15 µs, a round trip about 20.
  #clock: number | undefined;

  constructor(options: PoolOptions) {
    this.#options = options;
  }

  /** The most workers it runs at once. */
  get maxWorkers(): number {
    return this.#options.maxWorkers;
  }

  /** Why the pool cannot run work, if it cannot. */
  get broken(): BrokenExecutorError | undefined {
    return this.#broken;
  }

  /** Queues a task; its future settles with the outcome. */
  submit(
    future: Future<unknown>,
    fn: FunctionSpec,
    args: unknown[],
    chunk: 0 | 1,
    options?: TaskOptions,
  ): void {
    const item = new WorkItem(
      this.#nextId++,
      future,
      fn,
      args,
      chunk,
      options,
      this.#stats,
      this.#now(),
    );
    if (item.signal !== undefined) this.#watchSignal(item);
    this.#queue.push(item);
    // The turn's submits are dispatched together, so they can share
    // messages.
    if (this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    queueMicrotask(() => this.#pump());
  }

  #now(): number {
    return this.#clock ??= performance.now();
  }

  /** A snapshot of the pool's state and history (cheap: O(workers)). */
  stats(): ExecutorStats {
    const stats = this.#stats;
    const now = performance.now();
    let busy = 0;
    let busyMs = stats.retiredBusyMs;
    for (const slot of this.#slots) {
      if (!slot.idle) busy++;
      busyMs += slot.busyMs(now);
    }
    const capacity = this.#options.maxWorkers * (now - stats.created);
    return {
      workers: this.#slots.size,
      busy,
      queued: stats.queued,
      running: stats.running,
      completed: stats.completed,
      failed: stats.failed,
      cancelled: stats.cancelled,
      runTime: stats.runTime.summary(),
      waitTime: stats.waitTime.summary(),
      utilization: capacity > 0 ? Math.min(1, busyMs / capacity) : 0,
    };
  }

  /**
   * Stops taking work; settles once every queued and running task is done
   * and every worker is gone.
   */
  close(cancelFutures: boolean): Promise<void> {
    this.#closing = true;
    if (cancelFutures) {
      for (const item of this.#queue) item.future.cancel();
    }
    this.#closed ??= Promise.withResolvers<void>();
    this.#pump();
    return this.#closed.promise;
  }

  /** Stops every worker now; their tasks fail and the pool is broken. */
  terminate(reason: string): void {
    this.#break(new BrokenExecutorError(reason));
  }

  #watchSignal(item: WorkItem): void {
    const signal = item.signal!;
    item.onAbort(() => {
      if (item.future.cancel()) return item.unwatch();
      if (item.future.done()) return;
      item.fail(signal.reason);
      // Not in a worker: it waits in the queue, where #dispatch drops it.
      const slot = this.#slotOf(item);
      if (slot !== undefined) {
        this.#retire(slot, "the task was aborted", item.id);
      }
    });
  }

  #slotOf(item: WorkItem): WorkerSlot | undefined {
    for (const slot of this.#slots) {
      if (slot.inflight.includes(item)) return slot;
    }
    return undefined;
  }

  // Sends queued tasks to workers until the queue is empty or no worker can
  // take more. Never nested: a microtask can run inside it (Deno loads some
  // timer functions lazily, draining microtasks), so a nested call only asks
  // for another round.
  #pump(): void {
    this.#pumpScheduled = false;
    if (this.#pumping) {
      this.#pumpAgain = true;
      return;
    }
    this.#pumping = true;
    try {
      do {
        this.#pumpAgain = false;
        this.#dispatch();
      } while (this.#pumpAgain);
    } finally {
      this.#pumping = false;
      this.#clock = undefined;
    }
    this.#afterChange();
  }

  #dispatch(): void {
    const queue = this.#queue;
    const { maxWorkers } = this.#options;
    for (let first = queue.peek(); first !== undefined; first = queue.peek()) {
      if (first.gone) {
        // Cancelled (or aborted) while it waited.
        queue.shift()!.unwatch();
        continue;
      }
      const exclusive = first.exclusive;
      // An idle worker first, then a new one: one task each.
      let slot = this.#idleSlot();
      if (slot === undefined && this.#slots.size < maxWorkers) {
        slot = this.#spawn();
      }
      if (slot !== undefined) {
        this.#fill(slot, 1, exclusive);
        continue;
      }
      // Every worker is busy: send quick tasks ahead to the least loaded.
      const depth = exclusive ? 1 : this.#depth(first);
      if (depth <= 1) break;
      slot = this.#leastLoaded(depth);
      if (slot === undefined) break;
      this.#fill(slot, depth - slot.inflight.length, false);
    }
  }

  // How many tasks of this task's function a worker may hold at once.
  #depth(item: WorkItem): number {
    const ms = this.#fnMs.get(item.fn.id);
    if (ms === undefined || ms > QUICK_MS) return 1;
    return Math.min(MAX_PREFETCH, Math.floor(BATCH_MS / ms));
  }

  #idleSlot(): WorkerSlot | undefined {
    const max = this.#options.maxTasksPerWorker;
    for (const slot of this.#slots) {
      if (slot.idle && slot.takes(max)) return slot;
    }
    return undefined;
  }

  #leastLoaded(depth: number): WorkerSlot | undefined {
    const max = this.#options.maxTasksPerWorker;
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

  // Moves up to `room` tasks from the queue to `slot` in one message: the
  // first, then more of the quick kind (a task with its own limits goes
  // alone).
  #fill(slot: WorkerSlot, room: number, exclusive: boolean): void {
    const queue = this.#queue;
    const batch: WorkItem[] = [];
    const now = this.#now();
    room = Math.min(room, this.#options.maxTasksPerWorker - slot.sent);
    while (room > 0) {
      const item = queue.peek();
      if (item === undefined) break;
      if (item.gone) {
        queue.shift()!.unwatch();
        continue;
      }
      if (batch.length > 0 && (item.exclusive || this.#depth(item) <= 1)) {
        break;
      }
      queue.shift();
      if (!item.start(now)) continue;
      batch.push(item);
      room--;
    }
    if (batch.length === 0) return;
    slot.send(batch, exclusive, now);
    if (exclusive && slot.ready) this.#startClock(slot.inflight[0]);
  }

  // A task's timeout counts from its start: from its worker's READY.
  #startClock(item: WorkItem | undefined): void {
    item?.startClock(() => {
      const slot = this.#slotOf(item);
      if (item.future.done() || slot === undefined) return;
      item.fail(
        new TimeoutError(
          `Task timed out after ${item.timeout} ms: its worker ${slot.name} was terminated and replaced`,
        ),
      );
      this.#retire(slot, "the task timed out", item.id);
    });
  }

  #spawn(): WorkerSlot | undefined {
    const { spawn, name, initializer, initargs } = this.#options;
    const workerName = `${name}-${++this.#workerCount}`;
    let slot: WorkerSlot;
    try {
      slot = new WorkerSlot(
        workerName,
        (events) => spawn({ name: workerName, initializer, initargs }, events),
        {
          message: (slot, message) => this.#onMessage(slot, message),
          died: (slot, reason) => this.#onDied(slot, reason),
        },
      );
    } catch (error) {
      // No worker can start (a permission revoked since construction, no
      // `deno` to run): the pool cannot run work.
      this.#break(
        new BrokenExecutorError(
          `The pool is broken: cannot start worker ${workerName}`,
          { cause: error },
        ),
      );
      return undefined;
    }
    this.#slots.add(slot);
    return slot;
  }

  #onMessage(slot: WorkerSlot, message: FromWorker): void {
    if (!this.#slots.has(slot)) return;
    switch (message[0]) {
      case P.RESULTS:
        return this.#onResults(slot, message);
      case P.READY:
        slot.ready = true;
        if (slot.exclusive) this.#startClock(slot.inflight[0]);
        return;
      case P.INIT_FAILED:
        return this.#break(
          new BrokenExecutorError(
            `The pool is broken: the initializer failed in worker ${slot.name}`,
            { cause: fromRecord(message[1]) },
          ),
        );
      case P.FATAL:
        return this.#retire(slot, message[2], message[1]);
    }
  }

  #onResults(slot: WorkerSlot, message: unknown[]): void {
    const inflight = slot.inflight;
    const fnMs = this.#fnMs;
    const now = this.#clock = performance.now();
    // Results come in the order the tasks were sent, so the settled ones
    // are a prefix of `inflight`; a batch a dying worker salvaged skips the
    // task that killed it, whose FATAL follows: settle around it.
    let done = 0;
    for (let i = 1; i < message.length; i += RESULT.SIZE) {
      const id = message[i + RESULT.ID] as number;
      const status = message[i + RESULT.STATUS] as number | StatusMark;
      if (status === P.PROGRESS) {
        const running = inflight[done]?.id === id
          ? inflight[done]
          : inflight.find((t) => t.id === id);
        running?.future.setProgress(message[i + RESULT.VALUE]);
        continue;
      }
      let item = inflight[done];
      if (item?.id === id) done++;
      else {
        const at = inflight.findIndex((t, k) => k > done && t.id === id);
        if (at < 0) continue;
        item = inflight.splice(at, 1)[0];
      }
      const ms = message[i + RESULT.MS] as number;
      const mean = fnMs.get(item.fn.id);
      fnMs.set(item.fn.id, mean === undefined ? ms : mean * 0.7 + ms * 0.3);
      item.settle(
        typeof status === "number" ? status : status.status,
        message[i + RESULT.VALUE],
        now,
      );
    }
    slot.settled(done, now);
    if (slot.idle && slot.sent >= this.#options.maxTasksPerWorker) {
      this.#remove(slot);
    }
    this.#pump();
  }

  #onDied(slot: WorkerSlot, reason: string): void {
    if (!this.#slots.has(slot) || slot.dying !== undefined) return;
    // Its FATAL message, which names the task it ran, may still be coming.
    slot.dying = setTimeout(
      () => this.#retire(slot, reason, undefined),
      LAST_WORDS_MS,
    );
  }

  // Takes a worker out of the pool. The task that killed it (`culprit`: the
  // id the worker named, -1 for none; `undefined` when it died without a
  // word: the oldest it was sent, since results are flushed before the
  // worker yields) fails with BrokenExecutorError. Tasks it had not started
  // go back to the front of the queue; one that ran but whose result was
  // lost with the worker fails too, as it must never run twice.
  #retire(slot: WorkerSlot, reason: string, culprit: number | undefined): void {
    if (!this.#slots.has(slot)) return;
    this.#remove(slot);
    const inflight = slot.inflight.splice(0);
    const blamed = culprit === undefined
      ? 0
      : inflight.findIndex((item) => item.id === culprit);
    const requeue: WorkItem[] = [];
    inflight.forEach((item, i) => {
      if (item.future.done()) return item.unwatch();
      if (blamed < 0 || i > blamed) {
        item.stopClock();
        return requeue.push(item);
      }
      item.fail(
        new BrokenExecutorError(
          i === blamed
            ? `Worker ${slot.name} died under the task: ${reason}`
            : `Worker ${slot.name} died before the task's result was sent: ${reason}`,
          { cause: reason },
        ),
      );
    });
    if (requeue.length > 0) this.#queue.requeue(requeue);
    this.#pump();
  }

  #remove(slot: WorkerSlot): void {
    this.#slots.delete(slot);
    this.#stats.retiredBusyMs += slot.busyMs(performance.now());
    const gone = slot.stop();
    if (gone !== undefined) {
      this.#exiting.add(gone);
      gone.finally(() => this.#exiting.delete(gone));
    }
  }

  #break(error: BrokenExecutorError): void {
    if (this.#broken !== undefined) return;
    this.#broken = error;
    const fail = (item: WorkItem) =>
      item.fail(new BrokenExecutorError(error.message, { cause: error.cause }));
    for (const slot of this.#slots) {
      this.#remove(slot);
      slot.inflight.splice(0).forEach(fail);
    }
    this.#queue.drain().forEach(fail);
    this.#afterChange();
  }

  // After the queue or a worker changed: retire idle workers on time, and
  // finish a shutdown once nothing is left to run.
  #afterChange(): void {
    if (this.#queue.size > 0) return;
    for (const slot of this.#slots) {
      if (!slot.idle) return;
    }
    if (this.#closing || this.#broken !== undefined) {
      for (const slot of this.#slots) this.#remove(slot);
      clearTimeout(this.#idleTimer);
      this.#idleTimer = undefined;
      // Resolve once every worker is gone, processes included.
      const closed = this.#closed;
      if (closed !== undefined) {
        Promise.all(this.#exiting)
          .then(() => this.#options.onClosed?.())
          .then(() => closed.resolve());
      }
      return;
    }
    if (this.#slots.size > 0 && this.#idleTimer === undefined) {
      this.#scheduleIdleSweep(this.#options.idleTimeout);
    }
  }

  // An idle Deno Worker keeps its program alive forever, so idle workers
  // exit after idleTimeout; one timer serves them all.
  #scheduleIdleSweep(delay: number): void {
    if (delay === Infinity) return;
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      const now = performance.now();
      const timeout = this.#options.idleTimeout;
      let next = Infinity;
      for (const slot of this.#slots) {
        if (!slot.idle) continue;
        const left = slot.idleSince + timeout - now;
        if (left <= 1) this.#remove(slot);
        else next = Math.min(next, left);
      }
      if (next !== Infinity) this.#scheduleIdleSweep(next);
    }, delay);
  }
}
