// Inside a worker: progress values from the running task (reportProgress),
// coalesced so that a task reporting in a tight loop is not slowed down:
// the first value goes at once, then at most one each INTERVAL_MS (the
// latest wins), and the last one pending goes just before the task's
// outcome. Self-contained: shipped to workers as source text.
import type { Protocol } from "../_wire/protocol.ts";
import type { Outbox } from "./outbox.ts";

/** The worker's progress reporter. */
export class ProgressReporter {
  // A few messages a second per task: enough for a live progress bar.
  static readonly INTERVAL_MS = 200;
  // In a tight loop, the clock is read on every 16th call only.
  static readonly CLOCK_EVERY = 16;
  readonly #outbox: Outbox;
  // The task the pending value belongs to, or -1.
  #task = -1;
  #pending: unknown;
  #hasPending = false;
  // When the next value may go (Date.now()).
  #nextAt = 0;
  #calls = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /**
   * @param _P The protocol constants (unused; every part takes them).
   * @param outbox Where values go.
   */
  constructor(_P: Protocol, outbox: Outbox) {
    this.#outbox = outbox;
  }

  /** A value reported by the running task `id` (-1: no task runs). */
  report(id: number, value: unknown): void {
    if (id < 0) return;
    if (id !== this.#task) this.#switchTo(id);
    if (
      this.#hasPending && ++this.#calls % ProgressReporter.CLOCK_EVERY !== 0
    ) {
      this.#pending = value;
      return;
    }
    const now = Date.now();
    if (now >= this.#nextAt) return this.#send(id, value, now);
    this.#pending = value;
    this.#hasPending = true;
    // An asynchronous task may report no more for a while: send it then.
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      if (this.#hasPending && this.#task === id) this.#sendPending(id);
    }, this.#nextAt - now);
  }

  /** Task `id` is settling: its last value goes before its outcome. */
  finish(id: number): void {
    if (id !== this.#task) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#hasPending) {
      this.#hasPending = false;
      const value = this.#pending;
      this.#pending = undefined;
      // A coalesced value that cannot be cloned is dropped: the task's own
      // call would have thrown DataCloneError had it been sent then.
      try {
        this.#outbox.progress(id, structuredClone(value));
      } catch {
        // Dropped.
      }
    }
    this.#task = -1;
  }

  #switchTo(id: number): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#task = id;
    this.#hasPending = false;
    this.#pending = undefined;
    this.#nextAt = 0;
  }

  #send(id: number, value: unknown, now: number): void {
    this.#hasPending = false;
    this.#pending = undefined;
    this.#nextAt = now + ProgressReporter.INTERVAL_MS;
    this.#outbox.progress(id, structuredClone(value));
    this.#outbox.flush();
  }

  #sendPending(id: number): void {
    try {
      this.#send(id, this.#pending, Date.now());
    } catch {
      // Cannot be cloned: dropped (see finish).
      this.#hasPending = false;
    }
  }
}
