// Runs on the main thread: the scheduler behind both pool executors. It
// owns the queue, decides which worker gets which task (an idle one first,
// then a new one, then, for quick functions only, a busy one ahead of
// time), settles futures from workers' results, and replaces a worker that
// dies, times out or is aborted, failing only the task it ran. Workers are
// reached through `SpawnWorker`, so a thread and a process are the same
// here. The mechanics are its parts': the live workers (worker_set.ts, one
// worker: worker_slot.ts), how quick a function is (call_times.ts), when
// dispatch runs (pump.ts), the counts (pool_stats.ts). See ARCHITECTURE.md
// for the whole data flow.
import type { Future } from "../../future/future.ts";
import { BrokenExecutorError, TimeoutError } from "../../future/errors.ts";
import {
  type FromWorker,
  type FunctionSpec,
  PROTOCOL as P,
} from "../_wire/protocol.ts";
import { fromRecord } from "../_wire/error_record.ts";
import type { SpawnWorker } from "./transport.ts";
import { TaskQueue } from "./task_queue.ts";
import { type TaskOptions, WorkItem } from "./work_item.ts";
import { WorkerSlot } from "./worker_slot.ts";
import { WorkerSet } from "./worker_set.ts";
import { PoolStats } from "./pool_stats.ts";
import { CallTimes } from "./call_times.ts";
import { Pump } from "./pump.ts";
import type { ExecutorStats } from "../stats.ts";
import { functionName } from "../_base/function_spec.ts";
import type { Histogram } from "../_base/histogram.ts";
import { fanOut, type TaskTap } from "./tap.ts";

export type { TaskOptions };

/** A live worker, as a watcher sees it. */
export interface WorkerView {
  /** Its name (the pool's `name`, a dash, its number). */
  name: string;
  /** Tasks sent to it and not settled (0: idle). */
  tasks: number;
}

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

/** The scheduler behind `ThreadPoolExecutor` and `ProcessPoolExecutor`. */
export class Pool {
  readonly #options: PoolOptions;
  readonly #queue = new TaskQueue((future, fn, arg, time) =>
    WorkItem.ofOne(this.#nextId++, future, fn, arg, this.#stats, time)
  );
  readonly #workers: WorkerSet;
  readonly #stats = new PoolStats();
  // How quick each function is: how deep a busy worker may be sent ahead.
  readonly #callTimes = new CallTimes();
  // Dispatch: at the end of a turn, never nested.
  readonly #pump = new Pump(() => this.#dispatch(), () => this.#afterChange());
  #nextId = 1;
  #workerCount = 0;
  #broken: BrokenExecutorError | undefined;
  #closing = false;
  #closed: PromiseWithResolvers<void> | undefined;
  // Who listens to the tasks' steps (the dashboards): `#stats.tap` tells
  // them all.
  #listeners: readonly TaskTap[] = [];

  constructor(options: PoolOptions) {
    this.#options = options;
    this.#workers = new WorkerSet(
      options.maxTasksPerWorker,
      options.idleTimeout,
      this.#stats,
    );
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
    const stats = this.#stats, now = this.#pump.now(), tap = stats.tap;
    stats.queued++;
    future.addDoneCallback(stats.onDone);
    if (
      options === undefined && chunk === 0 && args.length === 1 &&
      tap === undefined
    ) {
      // The common task waits as its parts (task_queue.ts).
      this.#queue.add(future, fn, args[0], now);
    } else {
      const item = new WorkItem(
        this.#nextId++,
        future,
        fn,
        args,
        chunk,
        options,
        stats,
        now,
      );
      tap?.submitted(future, item.id, functionName(fn), now);
      if (item.signal !== undefined) this.#watchSignal(item);
      this.#queue.push(item);
    }
    // Dispatched with the turn's other submits, so they can share messages.
    this.#pump.schedule();
  }

  /** A snapshot of the pool's state and history (cheap: O(workers)). */
  stats(): ExecutorStats {
    return this.#stats.snapshot(this.#workers, this.#options.maxWorkers);
  }

  /**
   * Tells `tap` each step of every task from now on, until the returned
   * function is called.
   */
  listen(tap: TaskTap): () => void {
    this.#setListeners([...this.#listeners, tap]);
    return () => this.#setListeners(this.#listeners.filter((t) => t !== tap));
  }

  #setListeners(listeners: readonly TaskTap[]): void {
    this.#listeners = listeners;
    this.#stats.tap = listeners.length === 0
      ? undefined
      : listeners.length === 1
      ? listeners[0]
      : fanOut(listeners);
  }

  /**
   * The mean ms a call of function `fnId` takes in a worker, if one ran
   * (a Redis node's read-ahead asks).
   */
  callTime(fnId: number): number | undefined {
    return this.#callTimes.mean(fnId);
  }

  /** The live workers, oldest first. */
  workers(): WorkerView[] {
    return [...this.#workers].map((slot) => ({
      name: slot.name,
      tasks: slot.inflight.length,
    }));
  }

  /** The run times (ms, start to settle) behind `stats().runTime`. */
  get runTime(): Pick<Histogram, "count" | "sum" | "countUpTo"> {
    return this.#stats.runTime;
  }

  /**
   * Stops taking work; settles once every queued and running task is done
   * and every worker is gone.
   */
  close(cancelFutures: boolean): Promise<void> {
    this.#closing = true;
    if (cancelFutures) this.cancelQueued();
    this.#closed ??= Promise.withResolvers<void>();
    this.#pump.run();
    return this.#closed.promise;
  }

  /** Cancels every task that waits in the queue. */
  cancelQueued(): void {
    for (const future of this.#queue.futures()) future.cancel();
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
      // Behind others in a batch: stopped once they are done (#onMessage).
      const slot = this.#workers.holding(item);
      if (slot !== undefined && slot.inflight[0] === item) {
        this.#retire(slot, "the task was aborted", item.id);
      }
    });
  }

  // Sends queued tasks to workers until the queue is empty or no worker can
  // take more (one round of the pump).
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
      let slot = this.#workers.idleSlot();
      if (slot === undefined && this.#workers.size < maxWorkers) {
        slot = this.#spawn();
      }
      if (slot !== undefined) {
        this.#fill(slot, 1, exclusive);
        continue;
      }
      // Every worker is busy: send quick tasks ahead to the least loaded.
      const depth = exclusive ? 1 : this.#callTimes.depth(first.fn.id);
      if (depth <= 1) break;
      slot = this.#workers.leastLoaded(depth);
      if (slot === undefined) break;
      this.#fill(slot, depth - slot.inflight.length, false);
    }
  }

  // Moves up to `room` tasks from the queue to `slot` in one message: the
  // first, then more of the quick kind (a task with its own limits goes
  // alone).
  #fill(slot: WorkerSlot, room: number, exclusive: boolean): void {
    const queue = this.#queue;
    const batch: WorkItem[] = [];
    const now = this.#pump.now();
    room = Math.min(room, this.#options.maxTasksPerWorker - slot.sent);
    while (room > 0) {
      const item = queue.peek();
      if (item === undefined) break;
      if (item.gone) {
        queue.shift()!.unwatch();
        continue;
      }
      if (
        batch.length > 0 &&
        (item.exclusive || this.#callTimes.depth(item.fn.id) <= 1)
      ) {
        break;
      }
      queue.shift();
      if (!item.start(now)) continue;
      batch.push(item);
      room--;
      this.#stats.tap?.started(item.future, slot.name, now);
    }
    if (batch.length === 0) return;
    slot.send(batch, exclusive, now);
    if (exclusive && slot.ready) this.#startClock(slot.inflight[0]);
  }

  // A task's timeout counts from its start: from its worker's READY.
  #startClock(item: WorkItem | undefined): void {
    item?.startClock(() => {
      const slot = this.#workers.holding(item);
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
    try {
      const slot = new WorkerSlot(
        workerName,
        (events) => spawn({ name: workerName, initializer, initargs }, events),
        {
          message: (slot, message) => this.#onMessage(slot, message),
          died: (slot, reason) => this.#onDied(slot, reason),
        },
      );
      this.#workers.add(slot);
      return slot;
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
  }

  #onMessage(slot: WorkerSlot, message: FromWorker): void {
    if (!this.#workers.has(slot)) return;
    switch (message[0]) {
      case P.RESULTS: {
        slot.settleResults(message, this.#pump.tick(), this.#callTimes);
        // A batched task aborted while it waited on its worker has begun:
        // stopped now (its worker is replaced, the tasks behind it requeued).
        const head = slot.inflight[0];
        if (head?.future.done()) {
          return this.#retire(slot, "the task was aborted", head.id);
        }
        if (slot.idle && slot.sent >= this.#options.maxTasksPerWorker) {
          this.#workers.remove(slot);
        }
        return this.#pump.run();
      }
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

  #onDied(slot: WorkerSlot, reason: string): void {
    if (!this.#workers.has(slot) || slot.dying !== undefined) return;
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
    if (!this.#workers.has(slot)) return;
    this.#workers.remove(slot);
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
    this.#pump.run();
  }

  #break(error: BrokenExecutorError): void {
    if (this.#broken !== undefined) return;
    this.#broken = error;
    const fail = (item: WorkItem) =>
      item.fail(new BrokenExecutorError(error.message, { cause: error.cause }));
    for (const slot of this.#workers) {
      this.#workers.remove(slot);
      slot.inflight.splice(0).forEach(fail);
    }
    this.#queue.drain().forEach(fail);
    this.#afterChange();
  }

  // After the queue or a worker changed: retire idle workers on time, and
  // finish a shutdown once nothing is left to run.
  #afterChange(): void {
    if (this.#queue.size > 0 || !this.#workers.idle) return;
    if (this.#closing || this.#broken !== undefined) {
      this.#workers.stopAll();
      const closed = this.#closed;
      if (closed !== undefined) {
        this.#workers.gone()
          .then(() => this.#options.onClosed?.())
          .then(() => closed.resolve());
      }
      return;
    }
    this.#workers.sweepIdle();
  }
}
