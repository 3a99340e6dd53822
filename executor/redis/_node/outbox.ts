// The node side: replies on their way to the executors, and the acknowledgements
// that follow them. Everything one turn produced leaves in one write: per
// executor one XADD carrying all its replies, then one XACK + XDEL for the
// tasks answered; the queue's task events (events.ts) go in the same write,
// one XADD of one entry, between the replies and the XACK. Redis runs one
// connection's commands in order, so a reply
// is in its stream before its task leaves the queue: a node that dies in
// between leaves the task pending, and it runs again elsewhere (the executor
// drops the second answer).
import type { Link } from "../_engine/link.ts";
import { encodeText } from "../_wire/codec.ts";
import type { Reply, ResultReply } from "../_wire/records.ts";
import { toResultReply } from "../_wire/result.ts";
import { eventStream, FIELD, GROUP, replyStream } from "../_wire/streams.ts";
import type { NodeEvents } from "./events.ts";
import type { Held } from "./held.ts";

// A "started" reply waits this long: a task that finishes sooner sends only
// its result, one reply instead of two for tiny tasks. The price: for this
// long after its start the executor still thinks the task pending, and a
// cancel() in that window stops the task rather than prevents it.
const STARTED_DELAY_MS = 2;

interface Ack {
  entryId: string;
  /** The task stream the entry is in. */
  stream: string;
  /** Called once the acknowledgement is confirmed. */
  done: () => void;
}

/** The replies and acknowledgements of one node. */
export class NodeOutbox {
  readonly #link: Link;
  readonly #queue: string;
  readonly #events: NodeEvents;
  // Replies to send, by executor id.
  #replies = new Map<string, Reply[]>();
  // Entries to acknowledge once the replies before them are sent.
  #acks: Ack[] = [];
  // "started" replies not sent yet, by task key.
  readonly #started = new Map<string, { reply: Reply; held: Held }>();
  // Clears the timer that sends the "started" replies, while one is armed.
  #startedTimer: (() => void) | undefined;
  #flushScheduled = false;
  // Flushes in flight, and whoever waits for none.
  #sending = 0;
  #idle: PromiseWithResolvers<void> | undefined;
  #discarded = false;

  constructor(link: Link, queue: string, events: NodeEvents) {
    this.#link = link;
    this.#queue = queue;
    this.#events = events;
  }

  /** Reports a task's start, unless its result follows soon. */
  started(held: Held, nodeId: string): void {
    this.#started.set(held.key, {
      reply: { kind: "started", taskId: held.record.taskId, nodeId },
      held,
    });
    this.#startedTimer ??= this.#link.lifetime.timer(STARTED_DELAY_MS, () => {
      this.#startedTimer = undefined;
      for (const { reply, held } of this.#started.values()) {
        this.#push(held.record.executorId, reply);
        this.#events.started(held);
      }
      this.#started.clear();
      this.#schedule();
    });
  }

  /**
   * Sends a progress value of a running task (already coalesced by the
   * pool), after its "started" if that was still waiting.
   */
  progress(held: Held, nodeId: string, value: unknown): void {
    const { executorId, taskId } = held.record;
    const started = this.#started.get(held.key);
    if (started !== undefined) {
      this.#started.delete(held.key);
      this.#push(executorId, started.reply);
      this.#events.started(held);
    }
    this.#push(executorId, { kind: "progress", taskId, nodeId, value });
    this.#events.progress(held, value);
    this.#schedule();
  }

  /** Sends a task's result (and its end event), then acknowledges it. */
  result(held: Held, reply: ResultReply, done: () => void): void {
    // The result says it started: a "started" not sent yet is not needed.
    if (this.#started.delete(held.key) && this.#started.size === 0) {
      this.#startedTimer?.();
      this.#startedTimer = undefined;
    }
    this.#push(held.record.executorId, reply);
    this.#events.ended(held, reply);
    this.ack(held, done);
  }

  /**
   * Acknowledges (and deletes) an entry after what is queued before it; a
   * held task its executor stopped counts as cancelled.
   */
  ack(
    entry: { entryId: string; stream: string } | Held,
    done: () => void,
  ): void {
    if ("record" in entry && entry.stopped === "stop") {
      this.#events.cancelled(entry);
    }
    this.#acks.push({ entryId: entry.entryId, stream: entry.stream, done });
    this.#schedule();
  }

  /** Resolves once nothing waits to be sent, or it was discarded. */
  async drained(): Promise<void> {
    while (this.#pending() && !this.#discarded) {
      this.#idle ??= Promise.withResolvers<void>();
      await this.#idle.promise;
    }
  }

  /** Drops what was not sent, and the started timer. */
  discard(): void {
    // A flush may still be in flight: drained() must not wait for it (it
    // would await a resolved promise in a loop, starving the event loop).
    this.#discarded = true;
    this.#startedTimer?.();
    this.#startedTimer = undefined;
    this.#started.clear();
    this.#replies.clear();
    this.#acks = [];
    this.#events.clear();
    this.#idle?.resolve();
    this.#idle = undefined;
  }

  #pending(): boolean {
    return this.#sending > 0 || this.#replies.size > 0 ||
      this.#acks.length > 0 || this.#started.size > 0;
  }

  #push(executorId: string, reply: Reply): void {
    const list = this.#replies.get(executorId);
    if (list === undefined) this.#replies.set(executorId, [reply]);
    else list.push(reply);
  }

  #schedule(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueMicrotask(() => this.#flush());
  }

  async #flush(): Promise<void> {
    this.#flushScheduled = false;
    const engine = this.#link.engine;
    if (engine === undefined || this.#link.closed) return;
    const replies = this.#replies;
    const acks = this.#acks;
    const events = this.#events.take();
    if (replies.size === 0 && acks.length === 0 && events === undefined) {
      return;
    }
    this.#replies = new Map();
    this.#acks = [];
    this.#sending++;
    // Issued in one turn: one write, the replies ahead of the XACK.
    const sent: Promise<unknown>[] = [...replies].map(([executorId, list]) =>
      // noCreate: an executor that left (or died, and its stream expired)
      // is not answered; its stream is not made again, to stay for ever.
      engine.add(replyStream(this.#queue, executorId), {
        [FIELD.REPLIES]: encodeReplies(list),
      }, { noCreate: true })
    );
    if (events !== undefined) {
      sent.push(
        engine.add(eventStream(this.#queue), events.entry, {
          maxLen: events.maxLen,
        }),
      );
    }
    const streams = new Map<string, string[]>();
    for (const { stream, entryId } of acks) {
      const ids = streams.get(stream);
      if (ids === undefined) streams.set(stream, [entryId]);
      else ids.push(entryId);
    }
    for (const [stream, ids] of streams) {
      sent.push(engine.ack(stream, GROUP, ids, { remove: true }));
    }
    try {
      await Promise.all(sent);
      for (const ack of acks) ack.done();
    } catch (error) {
      // Lost with the connection, or unknown: again once Redis is back
      // (a reply sent twice is dropped by its executor). An error Redis
      // answered waits a while, so a bad key cannot make it spin.
      for (const [executorId, list] of replies) {
        for (const reply of list) this.#push(executorId, reply);
      }
      this.#acks.unshift(...acks);
      if (events !== undefined) this.#events.putBack(events);
      await this.#link.afterError(error);
      this.#schedule();
    } finally {
      this.#sending--;
      if (!this.#pending()) {
        this.#idle?.resolve();
        this.#idle = undefined;
      }
    }
  }
}

// One record for all of an executor's replies; a value node:v8 cannot
// serialize fails only its own task, with a DataCloneError (a progress
// value is dropped).
function encodeReplies(list: Reply[]): string | Uint8Array {
  try {
    return encodeText(list);
  } catch {
    return encodeText(
      list.filter((reply) => {
        if (reply.kind !== "progress") return true;
        try {
          encodeText(reply.value);
          return true;
        } catch {
          return false;
        }
      }).map((reply) => {
        if (reply.kind !== "result" || !reply.ok) return reply;
        try {
          encodeText(reply.value);
          return reply;
        } catch (error) {
          const cause = (error as Error).cause as Error | undefined;
          return toResultReply(reply.taskId, reply.nodeId, 0, {
            ok: false,
            error: new DOMException(
              `Cannot send the task's result: ${cause?.message ?? error}`,
              "DataCloneError",
            ),
          });
        }
      }),
    );
  }
}
