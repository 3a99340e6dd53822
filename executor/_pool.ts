// The pool side: one scheduler for every kind of worker. It owns the queue,
// sends tasks to workers in batches, settles futures from their results,
// and replaces a worker that dies, times out or is aborted, failing only the
// task it was running. Workers are reached through `SpawnWorker`, so a
// thread (`_thread_worker.ts`) and a process are the same to it.
import type { Future } from "../future/future.ts";
import { BrokenExecutorError, TimeoutError } from "../future/errors.ts";
import {
  type ChunkRecord,
  type ErrorRecord,
  type FromWorker,
  type FunctionSpec,
  PROTOCOL as P,
  type RawThrow,
  RESULT,
  type StatusMark,
  type ToWorker,
} from "./_protocol.ts";
import { fromRecord } from "./_error_record.ts";

/** The pool's handle on one worker. */
export interface WorkerHandle {
  /** Sends a message; throws `DataCloneError` when it cannot be cloned. */
  send(message: ToWorker, transfer: Transferable[]): void;
  /**
   * Stops the worker now; no event follows. The promise, if any, settles
   * once it is gone (a process has exited).
   */
  terminate(): void | Promise<void>;
  /** The process id, for a process worker. */
  pid?: number;
}

/** What a worker reports to the pool. */
export interface WorkerEvents {
  /** A protocol message from the worker. */
  message(message: FromWorker): void;
  /** The worker died without a word (an uncaught error, a crashed process). */
  died(reason: string): void;
}

/** Starts one worker. */
export type SpawnWorker = (
  init: { name: string; initializer?: FunctionSpec; initargs?: unknown[] },
  events: WorkerEvents,
) => WorkerHandle;

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

/** A task's own limits, already validated; `transfer` already moved. */
export interface TaskOptions {
  transfer?: Transferable[];
  timeout?: number;
  signal?: AbortSignal;
}

// A task and everything the pool keeps about it until it settles.
interface Task extends TaskOptions {
  id: number;
  future: Future<unknown>;
  fn: FunctionSpec;
  args: unknown[];
  // 1 for a `map` chunk, else 0 (the wire value).
  chunk: 0 | 1;
  // Set once setRunningOrNotifyCancel() said yes; a task put back in the
  // queue after its worker died keeps it.
  started: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
  onAbort: (() => void) | undefined;
}

interface Slot {
  handle: WorkerHandle;
  name: string;
  // Tasks sent and not settled, in the order the worker runs them.
  inflight: Task[];
  // Function ids whose spec this worker has.
  known: Set<number>;
  ready: boolean;
  // Tasks ever sent to this worker (for maxTasksPerWorker).
  sent: number;
  // It runs a task with a timeout or signal, alone.
  exclusive: boolean;
  // It reported an error event and its last words may still be in flight:
  // the timer that retires it anyway.
  dying: ReturnType<typeof setTimeout> | undefined;
  idleSince: number;
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
// worker that frees up), as Python's one-task-per-thread does.
const BATCH_MS = 2;
const MAX_PREFETCH = 512;

/** The scheduler behind `ThreadPoolExecutor` and `ProcessPoolExecutor`. */
export class Pool {
  readonly #options: PoolOptions;
  // Tasks waiting for a worker, oldest first, from #head on.
  #queue: Task[] = [];
  #head = 0;
  #slots = new Set<Slot>();
  // Workers told to stop that are not gone yet (processes exiting).
  #exiting = new Set<Promise<void>>();
  #nextId = 1;
  #workerCount = 0;
  #pumpScheduled = false;
  #pumping = false;
  #pumpAgain = false;
  // Per function id: the mean time a call took in a worker (workers report
  // each task's run time with its result).
  #fnMs = new Map<number, number>();
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  #broken: BrokenExecutorError | undefined;
  #closing = false;
  #closed: PromiseWithResolvers<void> | undefined;

  constructor(options: PoolOptions) {
    this.#options = options;
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
    const task: Task = {
      id: this.#nextId++,
      future,
      fn,
      args,
      chunk,
      transfer: options?.transfer,
      timeout: options?.timeout,
      signal: options?.signal,
      started: false,
      timer: undefined,
      onAbort: undefined,
    };
    if (task.signal !== undefined) this.#watchSignal(task, task.signal);
    this.#queue.push(task);
    if (!this.#pumpScheduled) {
      this.#pumpScheduled = true;
      queueMicrotask(() => this.#pump());
    }
  }

  /**
   * Stops taking work; settles once every queued and running task is done
   * and every worker is gone.
   */
  close(cancelFutures: boolean): Promise<void> {
    this.#closing = true;
    if (cancelFutures) {
      for (let i = this.#head; i < this.#queue.length; i++) {
        this.#queue[i].future.cancel();
      }
    }
    this.#closed ??= Promise.withResolvers<void>();
    this.#pump();
    return this.#closed.promise;
  }

  /** Stops every worker now; their tasks fail and the pool is broken. */
  terminate(reason: string): void {
    this.#break(new BrokenExecutorError(reason));
  }

  #watchSignal(task: Task, signal: AbortSignal): void {
    task.onAbort = () => {
      if (task.future.cancel()) return this.#unwatch(task);
      if (task.future.done()) return;
      task.future.setException(signal.reason);
      this.#unwatch(task);
      // Not in a worker: it waits in the queue, where #pump drops it.
      const slot = this.#slotOf(task);
      if (slot !== undefined) {
        this.#retire(slot, "the task was aborted", task.id);
      }
    };
    signal.addEventListener("abort", task.onAbort, { once: true });
  }

  #unwatch(task: Task): void {
    clearTimeout(task.timer);
    if (task.onAbort !== undefined) {
      task.signal!.removeEventListener("abort", task.onAbort);
      task.onAbort = undefined;
    }
  }

  #slotOf(task: Task): Slot | undefined {
    for (const slot of this.#slots) {
      if (slot.inflight.includes(task)) return slot;
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
    }
    this.#afterChange();
  }

  #dispatch(): void {
    while (this.#head < this.#queue.length) {
      const first = this.#queue[this.#head];
      if (this.#gone(first)) {
        // Cancelled (or aborted) while it waited.
        this.#queue[this.#head++] = undefined as unknown as Task;
        this.#unwatch(first);
        continue;
      }
      const exclusive = first.timeout !== undefined ||
        first.signal !== undefined;
      // An idle worker first, then a new one: one task each.
      let slot = this.#idleSlot();
      if (slot === undefined && this.#slots.size < this.#options.maxWorkers) {
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
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    }
  }

  // Whether a queued task is done already: cancelled, or aborted, also when
  // its signal fired while this pool was busy and its listener has not run.
  #gone(task: Task): boolean {
    if (task.signal?.aborted && !task.started) task.future.cancel();
    return task.future.done();
  }

  // How many tasks of this task's function a worker may hold at once.
  #depth(task: Task): number {
    const ms = this.#fnMs.get(task.fn.id);
    if (ms === undefined) return 1;
    return Math.max(1, Math.min(MAX_PREFETCH, Math.floor(BATCH_MS / ms)));
  }

  #takes(slot: Slot): boolean {
    return !slot.exclusive && slot.dying === undefined &&
      slot.sent < this.#options.maxTasksPerWorker;
  }

  #idleSlot(): Slot | undefined {
    for (const slot of this.#slots) {
      if (slot.inflight.length === 0 && this.#takes(slot)) return slot;
    }
    return undefined;
  }

  #leastLoaded(depth: number): Slot | undefined {
    let best: Slot | undefined;
    for (const slot of this.#slots) {
      if (
        this.#takes(slot) && slot.inflight.length < depth &&
        (best === undefined || slot.inflight.length < best.inflight.length)
      ) {
        best = slot;
      }
    }
    return best;
  }

  // Moves tasks from the queue to `slot`, then sends them in one message.
  #fill(slot: Slot, room: number, exclusive: boolean): void {
    const queue = this.#queue;
    // (#unwatch below may run microtasks, but never a nested #dispatch.)
    const message: unknown[] = [P.RUN];
    const transfer: Transferable[] = [];
    const batch: Task[] = [];
    room = Math.min(room, this.#options.maxTasksPerWorker - slot.sent);
    while (room > 0 && this.#head < queue.length) {
      const task = queue[this.#head];
      if (this.#gone(task)) {
        this.#unwatch(task);
        queue[this.#head++] = undefined as unknown as Task;
        continue;
      }
      if (
        batch.length > 0 &&
        (task.timeout !== undefined || task.signal !== undefined ||
          this.#depth(task) <= 1)
      ) break;
      if (!task.started) {
        if (!task.future.setRunningOrNotifyCancel()) {
          this.#unwatch(task);
          queue[this.#head++] = undefined as unknown as Task;
          continue;
        }
        task.started = true;
      }
      queue[this.#head++] = undefined as unknown as Task;
      batch.push(task);
      room--;
      const fn = task.fn;
      message.push(
        task.id,
        slot.known.has(fn.id) ? fn.id : fn,
        task.args,
        task.chunk,
      );
      slot.known.add(fn.id);
      if (task.transfer !== undefined) transfer.push(...task.transfer);
    }
    if (batch.length === 0) return;
    slot.exclusive = exclusive;
    slot.sent += batch.length;
    for (const task of batch) slot.inflight.push(task);
    try {
      slot.handle.send(message as ToWorker, transfer);
    } catch {
      // Something in the batch cannot be cloned: send one by one, failing
      // only the tasks that cannot go.
      for (const task of batch) this.#sendAlone(slot, task);
    }
    if (exclusive && slot.ready) this.#startClock(slot.inflight[0]);
  }

  #sendAlone(slot: Slot, task: Task): void {
    try {
      slot.handle.send(
        [P.RUN, task.id, task.fn, task.args, task.chunk],
        task.transfer ?? [],
      );
    } catch (error) {
      slot.inflight.splice(slot.inflight.indexOf(task), 1);
      slot.sent--;
      this.#unwatch(task);
      if (!task.future.done()) task.future.setException(error);
    }
  }

  #startClock(task: Task | undefined): void {
    if (task?.timeout === undefined || task.timer !== undefined) return;
    if (task.timeout === Infinity) return;
    const timeout = task.timeout;
    task.timer = setTimeout(() => {
      const slot = this.#slotOf(task);
      if (task.future.done() || slot === undefined) return;
      this.#unwatch(task);
      task.future.setException(
        new TimeoutError(
          `Task timed out after ${timeout} ms: its worker ${slot.name} was terminated and replaced`,
        ),
      );
      this.#retire(slot, "the task timed out", task.id);
    }, timeout);
  }

  #spawn(): Slot | undefined {
    const { spawn, name, initializer, initargs } = this.#options;
    const slot: Slot = {
      handle: undefined as unknown as WorkerHandle,
      name: `${name}-${++this.#workerCount}`,
      inflight: [],
      known: new Set(),
      ready: false,
      sent: 0,
      exclusive: false,
      dying: undefined,
      idleSince: 0,
    };
    try {
      slot.handle = spawn({ name: slot.name, initializer, initargs }, {
        message: (message) => this.#onMessage(slot, message),
        died: (reason) => this.#onDied(slot, reason),
      });
    } catch (error) {
      // No worker can start (a permission revoked since construction, no
      // `deno` to run): the pool cannot run work.
      this.#break(
        new BrokenExecutorError(
          `The pool is broken: cannot start worker ${slot.name}`,
          { cause: error },
        ),
      );
      return undefined;
    }
    this.#slots.add(slot);
    return slot;
  }

  #onMessage(slot: Slot, message: FromWorker): void {
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

  #onResults(slot: Slot, message: unknown[]): void {
    const inflight = slot.inflight;
    const fnMs = this.#fnMs;
    // Results come in the order the tasks were sent, so the settled ones
    // are a prefix of `inflight`; a batch a dying worker salvaged skips the
    // task that killed it, whose FATAL follows: settle around it.
    let done = 0;
    for (let i = 1; i < message.length; i += RESULT.SIZE) {
      const id = message[i + RESULT.ID] as number;
      let task = inflight[done];
      if (task?.id === id) done++;
      else {
        const at = inflight.findIndex((t, k) => k > done && t.id === id);
        if (at < 0) continue;
        task = inflight.splice(at, 1)[0];
      }
      const ms = message[i + RESULT.MS] as number;
      const mean = fnMs.get(task.fn.id);
      fnMs.set(task.fn.id, mean === undefined ? ms : mean * 0.7 + ms * 0.3);
      const status = message[i + RESULT.STATUS] as number | StatusMark;
      this.#settle(
        task,
        typeof status === "number" ? status : status.status,
        message[i + RESULT.VALUE],
      );
    }
    inflight.splice(0, done);
    if (inflight.length === 0) {
      slot.exclusive = false;
      slot.idleSince = performance.now();
      if (slot.sent >= this.#options.maxTasksPerWorker) {
        this.#remove(slot);
      }
    }
    this.#pump();
  }

  #settle(task: Task, status: number, value: unknown): void {
    if (task.timer !== undefined || task.onAbort !== undefined) {
      this.#unwatch(task);
    }
    if (task.future.done()) return;
    if (status === P.OK) task.future.setResult(value);
    else if (status === P.ERROR) {
      task.future.setException(fromRecord(value as ErrorRecord | RawThrow));
    } else {
      const chunk = value as ChunkRecord;
      if (chunk.error !== undefined) {
        (chunk as { error: unknown }).error = fromRecord(chunk.error);
      }
      task.future.setResult(chunk);
    }
  }

  #onDied(slot: Slot, reason: string): void {
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
  #retire(slot: Slot, reason: string, culprit: number | undefined): void {
    if (!this.#slots.has(slot)) return;
    this.#remove(slot);
    const inflight = slot.inflight;
    const blamed = culprit === undefined
      ? 0
      : inflight.findIndex((task) => task.id === culprit);
    const requeue: Task[] = [];
    inflight.forEach((task, i) => {
      if (task.future.done()) return this.#unwatch(task);
      if (blamed < 0 || i > blamed) {
        clearTimeout(task.timer);
        task.timer = undefined;
        return requeue.push(task);
      }
      this.#unwatch(task);
      task.future.setException(
        new BrokenExecutorError(
          i === blamed
            ? `Worker ${slot.name} died under the task: ${reason}`
            : `Worker ${slot.name} died before the task's result was sent: ${reason}`,
          { cause: reason },
        ),
      );
    });
    inflight.length = 0;
    if (requeue.length > 0) {
      this.#queue.splice(this.#head, 0, ...requeue);
    }
    this.#pump();
  }

  #remove(slot: Slot): void {
    this.#slots.delete(slot);
    clearTimeout(slot.dying);
    const gone = slot.handle.terminate();
    if (gone !== undefined) {
      this.#exiting.add(gone);
      gone.finally(() => this.#exiting.delete(gone));
    }
  }

  #break(error: BrokenExecutorError): void {
    if (this.#broken !== undefined) return;
    this.#broken = error;
    for (const slot of this.#slots) {
      this.#remove(slot);
      for (const task of slot.inflight) this.#fail(task, error);
      slot.inflight.length = 0;
    }
    for (let i = this.#head; i < this.#queue.length; i++) {
      this.#fail(this.#queue[i], error);
    }
    this.#queue = [];
    this.#head = 0;
    this.#afterChange();
  }

  #fail(task: Task, error: BrokenExecutorError): void {
    this.#unwatch(task);
    if (!task.future.done()) {
      task.future.setException(
        new BrokenExecutorError(error.message, { cause: error.cause }),
      );
    }
  }

  // After the queue or a worker changed: retire idle workers on time, and
  // finish a shutdown once nothing is left to run.
  #afterChange(): void {
    const queueEmpty = this.#head === this.#queue.length;
    if (!queueEmpty) return;
    let busy = false;
    for (const slot of this.#slots) {
      if (slot.inflight.length > 0) busy = true;
    }
    if (busy) return;
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
        if (slot.inflight.length > 0) continue;
        const left = slot.idleSince + timeout - now;
        if (left <= 1) this.#remove(slot);
        else next = Math.min(next, left);
      }
      if (next !== Infinity) this.#scheduleIdleSweep(next);
    }, delay);
  }
}
