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
} from "../_protocol.ts";
import type { Endpoint } from "./main.ts";

/** The worker's outbox. */
export interface Outbox {
  /** Queues a task's outcome; `ms` is how long it ran. */
  settle(id: number, status: number, value: unknown, ms: number): void;
  /** Sends what waits. */
  flush(): void;
  /** Whether FLUSH_MS has passed since the last send. */
  due(now: number): boolean;
  /**
   * Sends what waits and then FATAL naming the task that ends the worker
   * (`running`, or the one whose value was being cloned). Once only.
   */
  fatal(reason: string, running: number): void;
  /** Throws if the worker is already going (inside `fatal`). */
  checkAlive(): void;
  /** Whether FATAL was sent: nothing more goes out. */
  readonly dead: boolean;
}

/**
 * Makes the outbox of a worker.
 *
 * @param P The protocol constants.
 * @param endpoint Where messages go.
 * @param toRecord Turns a thrown value into a record.
 */
export function makeOutbox(
  P: Protocol,
  endpoint: Endpoint,
  toRecord: (error: unknown) => ErrorRecord | RawThrow,
): Outbox {
  // Results wait until FLUSH_MS has passed since the last send or the
  // worker runs out of tasks: one postMessage then carries many tiny
  // results, while a task that takes longer than FLUSH_MS sends its own at
  // once. The price: a result may wait for at most one task that started
  // less than FLUSH_MS after it.
  const FLUSH_MS = 0.5;
  const R = P.RESULT;
  // [RESULTS, result record, ...] in the layout of `_protocol.ts`.
  let outbox: unknown[] = [P.RESULTS];
  let transfers: Transferable[] = [];
  let lastFlush = performance.now();
  let dead = false;
  // While postMessage clones a RESULTS message: that message, and the mark
  // of the record whose value is being cloned (the mark's getter sets it).
  let sending: unknown[] | undefined;
  let cloning: StatusMark | undefined;
  // Inside fatal(): close() or Deno.exit() called again, by a getter while
  // the last results go out, throws GOING instead of ending the worker
  // before FATAL is sent; that result is dropped and its task fails with
  // the worker.
  let inFatal = false;
  const GOING = new Error("The worker is going");

  // A value whose cloning runs no code of the task's.
  const isPlain = (value: unknown): boolean =>
    value === null ||
    (typeof value !== "object" && typeof value !== "function" &&
      typeof value !== "symbol");

  function mark(status: number): StatusMark {
    const self: StatusMark = {
      get status() {
        cloning = self;
        return status;
      },
    };
    return self;
  }

  // Where the record with this mark starts in a message, or -1.
  function markedAt(message: unknown[], mark: StatusMark | undefined): number {
    if (mark === undefined) return -1;
    for (let i = 1; i < message.length; i += R.SIZE) {
      if (message[i + R.STATUS] === mark) return i;
    }
    return -1;
  }

  // node:v8 (a process worker) reports an uncloneable value with a plain
  // Error; postMessage with a DataCloneError. Make both the latter.
  function cloneError(error: unknown): unknown {
    return error instanceof Error && error.constructor === Error &&
        / could not be cloned\.$/.test(error.message)
      ? new DOMException(error.message, "DataCloneError")
      : error;
  }

  // Posts a RESULTS message. A value that cannot be cloned, or whose getter
  // throws, fails only its own task: its record becomes that error and the
  // message is posted again.
  function post(message: unknown[], transfer: Transferable[]): void {
    const outer = sending;
    sending = message;
    try {
      while (message.length > 1 && (!dead || inFatal)) {
        cloning = undefined;
        try {
          endpoint.postMessage(message as FromWorker, transfer);
          return;
        } catch (error) {
          const at = markedAt(message, cloning);
          if (at < 0) return postEach(message);
          if (error === GOING) message.splice(at, R.SIZE);
          else {
            message[at + R.STATUS] = P.ERROR;
            message[at + R.VALUE] = toRecord(cloneError(error));
          }
        }
      }
    } finally {
      sending = outer;
    }
  }

  // The transfer list itself failed (a detached buffer): each result alone.
  function postEach(message: unknown[]): void {
    for (let i = 1; i < message.length; i += R.SIZE) {
      const one = [P.RESULTS, ...message.slice(i, i + R.SIZE)];
      sending = one;
      cloning = one[1 + R.STATUS] as StatusMark;
      try {
        endpoint.postMessage(one as FromWorker, transferIn(one[1 + R.VALUE]));
      } catch (error) {
        one[1 + R.STATUS] = P.ERROR;
        one[1 + R.VALUE] = toRecord(cloneError(error));
        endpoint.postMessage(one as FromWorker);
      }
    }
  }

  function transferIn(value: unknown): Transferable[] {
    const contains = (v: unknown, t: Transferable, seen: Set<unknown>) => {
      if (v === t) return true;
      if (v === null || typeof v !== "object" || seen.has(v)) return false;
      seen.add(v);
      if (ArrayBuffer.isView(v)) return v.buffer === t;
      return Object.values(v).some((w): boolean => contains(w, t, seen));
    };
    return transfers.filter((t) => contains(value, t, new Set()));
  }

  function flush(): void {
    if (outbox.length === 1 || dead) return;
    lastFlush = performance.now();
    const message = outbox;
    const transfer = transfers;
    outbox = [P.RESULTS];
    transfers = [];
    post(message, transfer);
  }

  return {
    settle(id, status, value, ms) {
      if (
        status === P.OK && value !== null && typeof value === "object" &&
        P.TRANSFER_KEY in value
      ) {
        const marked = value as Record<string, unknown>;
        for (const t of marked[P.TRANSFER_KEY] as Transferable[]) {
          transfers.push(t);
        }
        value = marked.value;
      }
      outbox.push(
        id,
        status === P.ERROR || isPlain(value) ? status : mark(status),
        value,
        ms,
      );
    },

    flush,

    due: (now) => now - lastFlush > FLUSH_MS,

    // Dying while a getter runs as a result is cloned blames that result's
    // task and still delivers the rest of the batch, which is done.
    fatal(reason, running) {
      if (dead) return;
      inFatal = true;
      let culprit = running;
      try {
        const batch = sending;
        const at = batch === undefined ? -1 : markedAt(batch, cloning);
        if (at >= 0) {
          culprit = batch![at + R.ID] as number;
          const rest = batch!.slice();
          rest.splice(at, R.SIZE);
          post(rest, []);
        } else {
          flush();
        }
      } catch {
        // Dying: what could not be sent fails with the worker.
      } finally {
        dead = true;
        inFatal = false;
      }
      endpoint.postMessage([P.FATAL, culprit, reason]);
    },

    checkAlive() {
      if (inFatal) throw GOING;
    },

    get dead() {
      return dead;
    },
  };
}
