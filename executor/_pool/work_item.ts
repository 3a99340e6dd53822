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
}

/** A task in the pool, from submit to settle. */
export class WorkItem {
  readonly id: number;
  readonly future: Future<unknown>;
  readonly fn: FunctionSpec;
  readonly args: unknown[];
  /** 1 for a `map` chunk, else 0 (the wire value). */
  readonly chunk: 0 | 1;
  readonly transfer: Transferable[] | undefined;
  readonly timeout: number | undefined;
  readonly signal: AbortSignal | undefined;
  readonly #stats: PoolStats;
  // When it was submitted and started (performance.now()).
  readonly #submittedAt: number;
  #startedAt = 0;
  // Set once setRunningOrNotifyCancel() said yes; an item put back in the
  // queue after its worker died keeps it.
  #started = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #onAbort: (() => void) | undefined;

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
    this.args = args;
    this.chunk = chunk;
    this.transfer = options?.transfer;
    this.timeout = options?.timeout;
    this.signal = options?.signal;
    this.#stats = stats;
    this.#submittedAt = now;
    stats.queued++;
    future.addDoneCallback(stats.onDone);
  }

  /** It runs alone on its worker, which can then be stopped for it. */
  get exclusive(): boolean {
    return this.timeout !== undefined || this.signal !== undefined;
  }

  /**
   * Done already: cancelled, or aborted, also when its signal fired while
   * the pool was busy and its listener has not run yet.
   */
  get gone(): boolean {
    if (this.signal?.aborted && !this.#started) this.future.cancel();
    return this.future.done();
  }

  /** Marks it running (once), at `now`; `false` if it was cancelled. */
  start(now: number): boolean {
    if (this.#started) return true;
    if (!this.future.setRunningOrNotifyCancel()) {
      this.unwatch();
      return false;
    }
    this.#started = true;
    this.#startedAt = now;
    const stats = this.#stats;
    stats.queued--;
    stats.running++;
    stats.waitTime.add(now - this.#submittedAt);
    return true;
  }

  /** Calls `fn` when its signal aborts (once). */
  onAbort(fn: () => void): void {
    this.#onAbort = fn;
    this.signal!.addEventListener("abort", fn, { once: true });
  }

  /** Starts its timeout (once, counted from the start); `fn` when it ends. */
  startClock(fn: () => void): void {
    const timeout = this.timeout;
    if (timeout === undefined || timeout === Infinity) return;
    this.#timer ??= setTimeout(fn, timeout);
  }

  /** Stops its timeout: it goes back to the queue and starts again. */
  stopClock(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Stops its timeout and abort listener: it is settled or gone. */
  unwatch(): void {
    if (this.#timer !== undefined) this.stopClock();
    if (this.#onAbort !== undefined) {
      this.signal!.removeEventListener("abort", this.#onAbort);
      this.#onAbort = undefined;
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
    if (this.#timer !== undefined || this.#onAbort !== undefined) {
      this.unwatch();
    }
    const future = this.future;
    if (future.done()) return;
    this.#count(status !== P.ERROR, now);
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
    if (this.#started) this.#count(false, now);
    else {
      this.#stats.queued--;
      this.#stats.failed++;
    }
    this.#stats.tap?.settled(this.future, "failed", now, undefined, error);
    this.future.setException(error);
  }

  // A started task settles.
  #count(ok: boolean, now: number): void {
    const stats = this.#stats;
    stats.running--;
    if (ok) stats.completed++;
    else stats.failed++;
    stats.runTime.add(now - this.#startedAt);
  }
}
