// Inside a worker: results on their way to the pool. They wait here and go
// in batches, one postMessage for many tiny results; a value that cannot be
// cloned, or whose getter throws or ends the worker, is blamed on its own
// task alone. Self-contained: shipped to workers as source text.
import type {
  ErrorRecord,
  FromWorker,
  Protocol,
  RawThrow,
  StatusMark,
} from "../_wire/protocol.ts";
import type { Endpoint } from "./endpoint.ts";

/** The worker's outbox. */
export class Outbox {
  // Results wait until FLUSH_MS has passed since the last send or the
  // worker runs out of tasks: one postMessage then carries many tiny
  // results, while a task that takes longer than FLUSH_MS sends its own at
  // once. The price: a result may wait for at most one task that started
  // less than FLUSH_MS after it.
  static readonly FLUSH_MS = 0.5;
  readonly #P: Protocol;
  readonly #endpoint: Endpoint;
  readonly #toRecord: (error: unknown) => ErrorRecord | RawThrow;
  // [RESULTS, result record, ...] in the layout of `_wire/protocol.ts`.
  #outbox: unknown[];
  #transfers: Transferable[] = [];
  #lastFlush = performance.now();
  // FATAL was sent: nothing more goes out.
  #dead = false;
  // While postMessage clones a RESULTS message: that message, and the mark
  // of the record whose value is being cloned (the mark's getter sets it).
  #sending: unknown[] | undefined;
  #cloning: StatusMark | undefined;
  // Inside fatal(): close() or Deno.exit() called again, by a getter while
  // the last results go out, throws `#going` instead of ending the worker
  // before FATAL is sent; that result is dropped and its task fails with
  // the worker.
  #inFatal = false;
  // Made when first thrown: a worker's first Error costs ~1.5 ms (measured
  // in a process worker, Deno 2.9.6), too much for every worker's start.
  #going: Error | undefined;

  /**
   * @param P The protocol constants.
   * @param endpoint Where messages go.
   * @param toRecord Turns a thrown value into a record.
   */
  constructor(
    P: Protocol,
    endpoint: Endpoint,
    toRecord: (error: unknown) => ErrorRecord | RawThrow,
  ) {
    this.#P = P;
    this.#endpoint = endpoint;
    this.#toRecord = toRecord;
    this.#outbox = [P.RESULTS];
  }

  /** Whether FATAL was sent: nothing more goes out. */
  get dead(): boolean {
    return this.#dead;
  }

  /** Queues a task's outcome; `ms` is how long it ran. */
  settle(id: number, status: number, value: unknown, ms: number): void {
    const P = this.#P;
    if (
      status === P.OK && value !== null && typeof value === "object" &&
      P.TRANSFER_KEY in value
    ) {
      const marked = value as Record<string, unknown>;
      for (const t of marked[P.TRANSFER_KEY] as Transferable[]) {
        this.#transfers.push(t);
      }
      value = marked.value;
    }
    // A result record, in RESULT's field order.
    this.#outbox.push(
      id,
      status === P.ERROR || Outbox.#isPlain(value)
        ? status
        : this.#mark(status),
      value,
      ms,
    );
  }

  /**
   * Queues a progress value of a running task, already cloned (so sending
   * it runs no task code).
   */
  progress(id: number, value: unknown): void {
    // A result record, in RESULT's field order.
    this.#outbox.push(id, this.#P.PROGRESS, value, 0);
  }

  /** Whether FLUSH_MS has passed since the last send. */
  due(now: number): boolean {
    return now - this.#lastFlush > Outbox.FLUSH_MS;
  }

  /** Sends what waits; `now`, if given, is the time. */
  flush(now?: number): void {
    if (this.#outbox.length === 1 || this.#dead) return;
    this.#lastFlush = now ?? performance.now();
    const message = this.#outbox;
    const transfer = this.#transfers;
    this.#outbox = [this.#P.RESULTS];
    this.#transfers = [];
    this.#post(message, transfer);
  }

  /**
   * Sends what waits, then FATAL naming the task that ends the worker:
   * `running`, or the one whose value was being cloned (its getter ended
   * the worker; the rest of that batch, which is done, is still
   * delivered). Once only.
   */
  fatal(reason: string, running: number): void {
    if (this.#dead) return;
    this.#inFatal = true;
    let culprit = running;
    try {
      const batch = this.#sending;
      const at = batch === undefined ? -1 : this.#markedAt(batch);
      if (at >= 0) {
        culprit = batch![at + this.#P.RESULT.ID] as number;
        const rest = batch!.slice();
        rest.splice(at, this.#P.RESULT.SIZE);
        this.#post(rest, []);
      } else {
        this.flush();
      }
    } catch {
      // Dying: what could not be sent fails with the worker.
    } finally {
      this.#dead = true;
      this.#inFatal = false;
    }
    this.#endpoint.postMessage([this.#P.FATAL, culprit, reason]);
  }

  /** Throws if the worker is already going (inside `fatal`). */
  checkAlive(): void {
    if (this.#inFatal) throw (this.#going ??= new Error("The worker is going"));
  }

  // A status whose getter says whose value is being cloned.
  #mark(status: number): StatusMark {
    // deno-lint-ignore no-this-alias
    const outbox = this;
    const mark: StatusMark = {
      get status() {
        outbox.#cloning = mark;
        return status;
      },
    };
    return mark;
  }

  // Where the record whose value was being cloned starts, or -1.
  #markedAt(message: unknown[]): number {
    const { SIZE, STATUS } = this.#P.RESULT;
    if (this.#cloning === undefined) return -1;
    for (let i = 1; i < message.length; i += SIZE) {
      if (message[i + STATUS] === this.#cloning) return i;
    }
    return -1;
  }

  // Posts a RESULTS message. A value that cannot be cloned, or whose getter
  // throws, fails only its own task: its record becomes that error and the
  // message is posted again.
  #post(message: unknown[], transfer: Transferable[]): void {
    const { SIZE, STATUS, VALUE } = this.#P.RESULT;
    const outer = this.#sending;
    this.#sending = message;
    try {
      while (message.length > 1 && (!this.#dead || this.#inFatal)) {
        this.#cloning = undefined;
        try {
          // No transfer list when there is none: an empty one costs ~0.8 µs.
          if (transfer.length === 0) {
            this.#endpoint.postMessage(message as FromWorker);
          } else this.#endpoint.postMessage(message as FromWorker, transfer);
          return;
        } catch (error) {
          const at = this.#markedAt(message);
          if (at < 0) return this.#postEach(message, transfer);
          if (error === this.#going && error !== undefined) {
            message.splice(at, SIZE);
          } else {
            message[at + STATUS] = this.#P.ERROR;
            message[at + VALUE] = this.#toRecord(Outbox.#cloneError(error));
          }
        }
      }
    } finally {
      this.#sending = outer;
    }
  }

  // The transfer list itself failed (a detached buffer): each result alone,
  // with the part of the batch's list it holds.
  #postEach(message: unknown[], transfer: Transferable[]): void {
    const P = this.#P, { SIZE, STATUS, VALUE } = P.RESULT;
    for (let i = 1; i < message.length; i += SIZE) {
      const one = [P.RESULTS, ...message.slice(i, i + SIZE)];
      this.#sending = one;
      this.#cloning = one[1 + STATUS] as StatusMark;
      try {
        this.#endpoint.postMessage(
          one as FromWorker,
          Outbox.#transferIn(one[1 + VALUE], transfer),
        );
      } catch (error) {
        one[1 + STATUS] = P.ERROR;
        one[1 + VALUE] = this.#toRecord(Outbox.#cloneError(error));
        this.#endpoint.postMessage(one as FromWorker);
      }
    }
  }

  // The entries of `transfer` that a value holds.
  static #transferIn(value: unknown, transfer: Transferable[]): Transferable[] {
    const holds = (v: unknown, t: Transferable, seen: Set<unknown>) => {
      if (v === t) return true;
      if (v === null || typeof v !== "object" || seen.has(v)) return false;
      seen.add(v);
      if (ArrayBuffer.isView(v)) return v.buffer === t;
      return Object.values(v).some((w): boolean => holds(w, t, seen));
    };
    return transfer.filter((t) => holds(value, t, new Set()));
  }

  // A value whose cloning runs no code of the task's.
  static #isPlain(value: unknown): boolean {
    return value === null ||
      (typeof value !== "object" && typeof value !== "function" &&
        typeof value !== "symbol");
  }

  // node:v8 (a process worker) reports an uncloneable value with a plain
  // Error; postMessage with a DataCloneError. Make both the latter.
  static #cloneError(error: unknown): unknown {
    return error instanceof Error && error.constructor === Error &&
        / could not be cloned\.$/.test(error.message)
      ? new DOMException(error.message, "DataCloneError")
      : error;
  }
}
