// The pool's state of one worker: what it was sent and has not answered,
// which function specs it holds, whether it may take more.
import { explainClone } from "../_base/graph.ts";
import {
  PROTOCOL as P,
  RESULT,
  type StatusMark,
  type ToWorker,
} from "../_wire/protocol.ts";
import type { CallTimes } from "./call_times.ts";
import type { WorkerEvents, WorkerHandle } from "./transport.ts";
import type { WorkItem } from "./work_item.ts";

/** One worker, as the pool sees it. */
export class WorkerSlot {
  readonly name: string;
  /** Tasks sent and not settled, in the order the worker runs them. */
  readonly inflight: WorkItem[] = [];
  /** Its READY came: its initializer is done and tasks run. */
  ready = false;
  /** Tasks ever sent to it (for maxTasksPerWorker). */
  sent = 0;
  /** It runs a task with a timeout or a signal, alone. */
  exclusive = false;
  /**
   * It reported an error event and its last words (FATAL, naming its task)
   * may still be in flight: the timer that retires it anyway.
   */
  dying: ReturnType<typeof setTimeout> | undefined;
  /** When it last ran out of tasks. */
  idleSince = 0;
  // Busy ms of its finished busy spells, and when the current one began.
  #busyMs = 0;
  #busySince = 0;
  readonly #handle: WorkerHandle;
  // Function ids whose spec it has (a spec travels once per worker).
  readonly #known = new Set<number>();

  /**
   * Starts the worker.
   *
   * @param name Its name.
   * @param start Starts it, given the slot's events.
   * @param events The pool's handlers, told which slot spoke.
   * @throws What `start` throws when no worker can start.
   */
  constructor(
    name: string,
    start: (events: WorkerEvents) => WorkerHandle,
    events: {
      message(
        slot: WorkerSlot,
        message: Parameters<WorkerEvents["message"]>[0],
      ): void;
      died(slot: WorkerSlot, reason: string): void;
    },
  ) {
    this.name = name;
    this.#handle = start({
      message: (message) => events.message(this, message),
      died: (reason) => events.died(this, reason),
    });
  }

  /** It has no task. */
  get idle(): boolean {
    return this.inflight.length === 0;
  }

  /** Whether it may be sent more tasks. */
  takes(maxTasksPerWorker: number): boolean {
    return !this.exclusive && this.dying === undefined &&
      this.sent < maxTasksPerWorker;
  }

  /**
   * Sends tasks in one message, each function's spec only the first time.
   * If the message cannot be cloned, each goes alone and only those that
   * cannot go fail (`DataCloneError`).
   */
  send(batch: WorkItem[], exclusive: boolean, now: number): void {
    if (this.inflight.length === 0) this.#busySince = now;
    const message: unknown[] = [P.RUN];
    const transfer: Transferable[] = [];
    const known = this.#known;
    for (const item of batch) {
      const fn = item.fn;
      // A task record, in TASK's field order.
      message.push(
        item.id,
        known.has(fn.id) ? fn.id : fn,
        item.args,
        item.chunk,
      );
      known.add(fn.id);
      if (item.transfer !== undefined) transfer.push(...item.transfer);
      this.inflight.push(item);
    }
    this.exclusive = exclusive;
    this.sent += batch.length;
    try {
      this.#handle.send(message as ToWorker, transfer);
    } catch {
      for (const item of batch) known.delete(item.fn.id);
      for (const item of batch) this.#sendAlone(item);
    }
  }

  #sendAlone(item: WorkItem): void {
    try {
      this.#handle.send(
        [P.RUN, item.id, item.fn, item.args, item.chunk],
        item.transfer ?? [],
      );
      this.#known.add(item.fn.id);
    } catch (error) {
      this.inflight.splice(this.inflight.indexOf(item), 1);
      this.sent--;
      item.fail(explainClone(error, item.args));
    }
  }

  /**
   * Settles the tasks a RESULTS message answers, and hands progress
   * values to their futures.
   *
   * @param message The message, from the worker.
   * @param now When it came.
   * @param callTimes Where each task's run time goes.
   */
  settleResults(message: unknown[], now: number, callTimes: CallTimes): void {
    const inflight = this.inflight;
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
        running?.progress(message[i + RESULT.VALUE]);
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
      callTimes.record(item.fn.id, ms);
      item.settle(
        typeof status === "number" ? status : status.status,
        message[i + RESULT.VALUE],
        now,
        ms,
      );
    }
    this.#settled(done, now);
  }

  // Takes out the first `count` tasks: they settled at `now`.
  #settled(count: number, now: number): void {
    this.inflight.splice(0, count);
    if (this.inflight.length === 0) {
      this.exclusive = false;
      this.idleSince = now;
      this.#busyMs += now - this.#busySince;
    }
  }

  /** How long it has run tasks, in ms, up to `now`. */
  busyMs(now: number): number {
    return this.#busyMs +
      (this.inflight.length > 0 ? now - this.#busySince : 0);
  }

  /** Stops the worker; the promise, if any, settles once it is gone. */
  stop(): void | Promise<void> {
    clearTimeout(this.dying);
    return this.#handle.terminate();
  }
}
