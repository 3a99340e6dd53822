// A submitted task, and everything the pool keeps about it until it
// settles: its future, its function and arguments, its own limits.
import type { Future } from "../../future/future.ts";
import type { ChunkRecord, FunctionSpec } from "../_wire/protocol.ts";
import { PROTOCOL as P } from "../_wire/protocol.ts";
import { fromRecord } from "../_wire/error_record.ts";
import type { ErrorRecord, RawThrow } from "../_wire/protocol.ts";
import type { PoolStats } from "./pool_stats.ts";

/** A task's own limits, already validated; `transfer` already moved. */
export interface TaskOptions {
  transfer?: Transferable[];
  timeout?: number;
  signal?: AbortSignal;
  /**
   * Its `signal` does not keep it alone on a worker: it may share a batch,
   * and an abort once it is on a worker stops it as it begins (a Redis
   * node's read-ahead). Not with a `timeout`.
   */
  batch?: boolean;
}

// A task's own limits and what watches them; only a task with options has
// them.
interface Limits {
  readonly transfer: Transferable[] | undefined;
  readonly timeout: number | undefined;
  readonly signal: AbortSignal | undefined;
  readonly batch: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
  onAbort: (() => void) | undefined;
}

// What ofOne gives the constructor, before it sets the one argument.
const NO_ARGS: unknown[] = [];

// WorkItem's flags.
const CHUNK = 1;
const STARTED = 2;
const ONE_ARG = 4;

/**
 * A task in the pool, from the front of the queue to settle (the common
 * task waits as its parts: task_queue.ts; the pool counts it queued and
 * watches its future from submit). It keeps little: one argument is held
 * without an array, and no options means no limits.
 */
export class WorkItem {
  readonly id: number;
  readonly future: Future<unknown>;
  readonly fn: FunctionSpec;
  // The arguments, or the only one (ONE_ARG).
  #args: unknown;
  // CHUNK: a `map` chunk; STARTED: setRunningOrNotifyCancel() said yes (an
  // item put back in the queue after its worker died keeps it); ONE_ARG.
  #flags: number;
  readonly #stats: PoolStats;
  // When it was submitted (performance.now()) until it starts, then when
  // it started. (Declared holding undefined, so V8 keeps the field tagged:
  // the turn's one clock reading is then shared by the items submitted in
  // it, not boxed for each, 16 bytes a queued task.)
  #time: number | undefined = undefined;
  readonly #limits: Limits | undefined;

  constructor(
    id: number,
    future: Future<unknown>,
    fn: FunctionSpec,
    args: unknown[],
    chunk: 0 | 1,
    options: TaskOptions | undefined,
    stats: PoolStats,
    now: number,
  ) {
    this.id = id;
    this.future = future;
    this.fn = fn;
    const one = args.length === 1;
    this.#args = one ? args[0] : args;
    this.#flags = (chunk === 1 ? CHUNK : 0) | (one ? ONE_ARG : 0);
    this.#stats = stats;
    this.#time = now;
    if (options !== undefined) {
      this.#limits = {
        transfer: options.transfer,
        timeout: options.timeout,
        signal: options.signal,
        batch: options.batch === true,
        timer: undefined,
        onAbort: undefined,
      };
    }
  }

  /**
   * A task of one argument and no options (one that waited in the queue as
   * its parts), made without an arguments array.
   */
  static ofOne(
    id: number,
    future: Future<unknown>,
    fn: FunctionSpec,
    arg: unknown,
    stats: PoolStats,
    time: number,
  ): WorkItem {
    const item = new WorkItem(
      id,
      future,
      fn,
      NO_ARGS,
      0,
      undefined,
      stats,
      time,
    );
    item.#args = arg;
    item.#flags |= ONE_ARG;
    return item;
  }

  /** Its arguments. */
  get args(): unknown[] {
    return this.#flags & ONE_ARG ? [this.#args] : this.#args as unknown[];
  }

  /** 1 for a `map` chunk, else 0 (the wire value). */
  get chunk(): 0 | 1 {
    return this.#flags & CHUNK ? 1 : 0;
  }

  /** Buffers it moves to its worker. */
  get transfer(): Transferable[] | undefined {
    return this.#limits?.transfer;
  }

  /** Its timeout, in ms from its start. */
  get timeout(): number | undefined {
    return this.#limits?.timeout;
  }

  /** Its signal. */
  get signal(): AbortSignal | undefined {
    return this.#limits?.signal;
  }

  /** It runs alone on its worker, which can then be stopped for it. */
  get exclusive(): boolean {
    const limits = this.#limits;
    return limits !== undefined &&
      (limits.timeout !== undefined ||
        (limits.signal !== undefined && !limits.batch));
  }

  /**
   * Done already: cancelled, or aborted, also when its signal fired while
   * the pool was busy and its listener has not run yet.
   */
  get gone(): boolean {
    if (this.#limits?.signal?.aborted && !(this.#flags & STARTED)) {
      this.future.cancel();
    }
    return this.future.done();
  }

  /** Marks it running (once), at `now`; `false` if it was cancelled. */
  start(now: number): boolean {
    if (this.#flags & STARTED) return true;
    if (!this.future.setRunningOrNotifyCancel()) {
      this.unwatch();
      return false;
    }
    this.#flags |= STARTED;
    const stats = this.#stats;
    stats.queued--;
    stats.running++;
    stats.waitTime.add(now - this.#time!);
    this.#time = now;
    return true;
  }

  /** Calls `fn` when its signal aborts (once). */
  onAbort(fn: () => void): void {
    const limits = this.#limits!;
    limits.onAbort = fn;
    limits.signal!.addEventListener("abort", fn, { once: true });
  }

  /** Starts its timeout (once, counted from the start); `fn` when it ends. */
  startClock(fn: () => void): void {
    const limits = this.#limits;
    const timeout = limits?.timeout;
    if (timeout === undefined || timeout === Infinity) return;
    limits!.timer ??= setTimeout(fn, timeout);
  }

  /** Stops its timeout: it goes back to the queue and starts again. */
  stopClock(): void {
    const limits = this.#limits;
    if (limits === undefined) return;
    clearTimeout(limits.timer);
    limits.timer = undefined;
  }

  /** Stops its timeout and abort listener: it is settled or gone. */
  unwatch(): void {
    const limits = this.#limits;
    if (limits === undefined) return;
    if (limits.timer !== undefined) this.stopClock();
    if (limits.onAbort !== undefined) {
      limits.signal!.removeEventListener("abort", limits.onAbort);
      limits.onAbort = undefined;
    }
  }

  /** Hands a progress value its task reported to its future. */
  progress(value: unknown): void {
    this.future.setProgress(value);
    this.#stats.tap?.progress(this.future, value);
  }

  /**
   * Settles, at `now`, with what its worker reported (`ms`: how long it ran
   * there).
   */
  settle(status: number, value: unknown, now: number, ms?: number): void {
    if (this.#limits !== undefined) this.unwatch();
    const future = this.future;
    if (future.done()) return;
    this.#stats.settled(status !== P.ERROR, now - this.#time!);
    const tap = this.#stats.tap;
    if (status === P.ERROR) {
      const error = fromRecord(value as ErrorRecord | RawThrow);
      tap?.settled(future, "failed", now, ms, error);
      return future.setException(error);
    }
    if (status !== P.OK) {
      const chunk = value as ChunkRecord;
      if (chunk.error !== undefined) {
        (chunk as { error: unknown }).error = fromRecord(chunk.error);
      }
    }
    tap?.settled(future, "completed", now, ms);
    future.setResult(value);
  }

  /** Fails it, unless it is done. */
  fail(error: unknown): void {
    this.unwatch();
    if (this.future.done()) return;
    const now = performance.now();
    if (this.#flags & STARTED) {
      this.#stats.settled(false, now - this.#time!);
    } else {
      this.#stats.queued--;
      this.#stats.failed++;
    }
    this.#stats.tap?.settled(this.future, "failed", now, undefined, error);
    this.future.setException(error);
  }
}
