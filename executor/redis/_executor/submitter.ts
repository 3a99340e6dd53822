// The executor side of a RedisExecutor: its tasks from submit to settle.
//
//   run() ─ RemoteTask ─> #unsent ── one addMany per microtask ──> task stream
//                           │ failed to send: held until Redis is back,
//                           │ each failing connectTimeout after its submit
//   ReplyStream (XREAD BLOCK) ── "started" ─> future running
//                             └── "result"  ─> future settled (_wire/result.ts)
//   cancel() of a pending task ── XDEL its entry (it never runs)
//   signal while running ── fails now, "stop" to its node's control stream
//   no live node for unroutableTimeout ── fails, XDEL (routing.ts)
//
// A task stays in #tasks until its future is done, however it got done; a
// reply for a task not there (settled, or a second run after its node was
// thought dead) is dropped, and a "started" one is answered with "stop".
// With no task for IDLE_MS the executor closes its link (the program may
// end); the next submit opens a new one.
import { Future } from "../../../future/future.ts";
import type { ExecutorStats } from "../../stats.ts";
import type { Engine } from "../_engine/engine.ts";
import { Link } from "../_engine/link.ts";
import type { Reply, TaskFunction, TaskRecord } from "../_wire/records.ts";
import { fixChunk, fromResultReply } from "../_wire/result.ts";
import { taskStream } from "../_wire/streams.ts";
import { VALUE_LIMITS, type ValueLimits } from "../_wire/values.ts";
import { LiveNodes } from "./live_nodes.ts";
import { RemoteStats } from "./remote_stats.ts";
import { encodeTask, RemoteTask } from "./remote_task.ts";
import { ReplyStream } from "./reply_stream.ts";
import { failUnroutable, ROUTE_EVERY_MS } from "./routing.ts";
import { Sender } from "./sender.ts";
import { StoredValues } from "./stored_values.ts";

/** What the submitter needs, already checked. */
export interface SubmitterOptions {
  url: string;
  queue: string;
  connectTimeout: number;
  lease: number;
  maxAttempts: number;
  /** ms no live node could take a queued task before it fails. */
  unroutableTimeout: number;
  /** How large values are kept in Redis. */
  values: ValueLimits;
}

/** What a task was submitted with, besides its function and arguments. */
export interface SubmitOptions {
  timeout?: number;
  signal?: AbortSignal;
  /** Sorted, without repeats (checkLabels). */
  labels?: readonly string[];
}

// An executor with no task lets its program end, as a pool's idle workers
// do: this long after its last future settles it closes its connection and
// deletes its reply stream; the next submit connects again (a few ms).
// Shorter lets a program end sooner; longer saves reconnects to a program
// that submits in bursts.
const IDLE_MS = 1_000;

/** The tasks of one RedisExecutor. */
export class Submitter {
  /** This executor's id: its reply stream's name ends with it. */
  readonly id: string = crypto.randomUUID();
  readonly #options: SubmitterOptions;
  readonly #replies: ReplyStream;
  readonly #sender: Sender;
  // The connection: a new one after each idle spell (see IDLE_MS).
  #link: Link;
  #idleTimer: (() => void) | undefined;
  // A link being closed after an idle spell; close() waits for it.
  #parking: Promise<void> | undefined;
  #closing = false;
  // Every task whose future is not done; by task id.
  readonly #tasks = new Map<number, RemoteTask>();
  #nextId = 1;
  // Writes in flight (removes, stops, reads of the nodes); close awaits them.
  readonly #inFlight = new Set<Promise<unknown>>();
  #drained: PromiseWithResolvers<void> | undefined;
  readonly #stats = new RemoteStats();
  readonly #nodes: LiveNodes;
  #routeTimer: (() => void) | undefined;
  readonly #values: StoredValues;
  // The record's value options, when they are not the defaults.
  readonly #limits: ValueLimits | undefined;

  /**
   * @param owner the executor: the owner of the values it keeps in Redis.
   */
  constructor(options: SubmitterOptions, owner: object) {
    this.#options = options;
    this.#nodes = new LiveNodes(options.queue);
    this.#values = new StoredValues(
      options.queue,
      this.id,
      options.values,
      owner,
      {
        engine: () => this.#link.connect(),
        engineNow: () => this.#link.engine?.up ? this.#link.engine : undefined,
      },
    );
    const { values } = options;
    this.#limits =
      Object.entries(VALUE_LIMITS).every(([name, value]) =>
          values[name as keyof ValueLimits] === value
        )
        ? undefined
        : { ...values };
    this.#sender = new Sender(options.queue, this.id, options.connectTimeout, {
      link: () => this.#link,
      tasks: () => this.#tasks.values(),
      track: (promise) => this.#track(promise),
      values: this.#values,
    });
    this.#replies = new ReplyStream(
      options.queue,
      this.id,
      options.connectTimeout,
      (replies) => replies.forEach((reply) => this.#onReply(reply)),
      (promise) => this.#track(promise),
    );
    this.#link = this.#newLink();
    // Connect now, so the first task does not wait for it; a failure here is
    // retried by the first send.
    this.#link.connect().catch(() => {});
  }

  #newLink(): Link {
    const link: Link = new Link({
      url: this.#options.url,
      connectTimeout: this.#options.connectTimeout,
      name: `concurrent-futures:executor:${this.id}`,
    }, {
      connected: async (engine) => {
        await this.#replies.open(link, engine);
        this.#idleSoon();
      },
      up: (engine) => this.#track(this.#back(link, engine)),
      lost: (cause) => this.#sender.lost(cause),
    });
    return link;
  }

  /** How many tasks are queued and not started. */
  get queued(): number {
    return this.#stats.queued;
  }

  /**
   * Queues a task; it is sent with the others submitted in this turn. It
   * drives `future` if given (an attempt of a task the executor holds).
   *
   * @throws {DOMException} `DataCloneError` for arguments node:v8 cannot
   * serialize.
   */
  submit(
    fn: TaskFunction,
    args: unknown[],
    chunk: 0 | 1,
    options: SubmitOptions = {},
    future: Future<unknown> = new Future<unknown>(),
  ): Future<unknown> {
    const { timeout, signal, labels = [] } = options;
    if (signal?.aborted) {
      future.setException(signal.reason);
      return future;
    }
    const { lease, maxAttempts, queue } = this.#options;
    const id = this.#nextId;
    const record: TaskRecord = {
      taskId: id,
      executorId: this.id,
      fn,
      args,
      chunk,
      maxAttempts,
      lease,
      enqueuedAt: Date.now(),
    };
    if (timeout !== undefined && timeout !== Infinity) record.timeout = timeout;
    if (signal !== undefined) record.stoppable = true;
    if (this.#limits !== undefined) record.values = this.#limits;
    const { encoded, pins, writes } = this.#values.place(record, encodeTask);
    this.#nextId++;
    const task = new RemoteTask(
      id,
      future,
      chunk === 1,
      taskStream(queue, labels),
      labels,
      encoded,
      lease,
    );
    task.pins = pins;
    task.writes = writes;
    this.#tasks.set(id, task);
    this.#stats.queued++;
    this.#idleTimer?.();
    this.#idleTimer = undefined;
    this.#watchRoutes();
    future.addDoneCallback(() => this.#settled(task));
    if (signal !== undefined) this.#watch(task, signal);
    this.#sender.send([task]);
    return future;
  }

  /** The live nodes, as last read (stats().nodes). */
  get nodes(): LiveNodes {
    return this.#nodes;
  }

  /**
   * A snapshot of this executor's tasks and the live nodes' workers, as
   * last read from Redis (read again in the background once older than a
   * second).
   */
  stats(): ExecutorStats {
    const now = performance.now();
    this.#readNodes(now);
    return this.#stats.snapshot(this.#nodes, now);
  }

  /** Cancels every task no node has reported started. */
  cancelQueued(): void {
    for (const task of [...this.#tasks.values()]) {
      if (!this.#stats.running.has(task)) task.future.cancel();
    }
  }

  /**
   * Waits until every future is done, then removes this executor's reply
   * stream and closes the connection.
   */
  async close(): Promise<void> {
    this.#closing = true;
    this.#idleTimer?.();
    if (this.#tasks.size > 0) {
      this.#drained = Promise.withResolvers<void>();
      await this.#drained.promise;
    }
    await this.#retire(this.#link, true);
  }

  // Idle: the connection closes soon, unless a task comes first.
  #idleSoon(): void {
    if (this.#tasks.size > 0 || this.#closing) return;
    this.#idleTimer?.();
    this.#idleTimer = this.#link.lifetime.timer(IDLE_MS, () => {
      this.#idleTimer = undefined;
      if (this.#tasks.size > 0 || this.#closing) return;
      const link = this.#link;
      this.#link = this.#newLink();
      this.#parking = this.#retire(link);
    });
  }

  // Ends a link: what is in flight first, then its reply stream (nothing of
  // this executor's is left in Redis), its connections and its reader.
  async #retire(link: Link, final = false): Promise<void> {
    await this.#parking;
    while (this.#inFlight.size > 0) await Promise.all(this.#inFlight);
    // The last close: every value this executor stored goes (what a future
    // still holds unread is read first).
    if (final) {
      const engine = link.engine ?? await link.connect().catch(() => undefined);
      if (engine?.up) await this.#values.close(engine).catch(() => {});
    }
    await this.#replies.drop(link);
    await link.close();
    await this.#replies.ended(link);
  }

  #track(promise: Promise<unknown>): void {
    const tracked = promise.catch(() => {}).finally(() =>
      this.#inFlight.delete(tracked)
    );
    this.#inFlight.add(tracked);
  }

  // Reads the live nodes in the background, at most once a ROUTE_EVERY_MS;
  // then fails the queued tasks no live node has been able to take.
  #readNodes(now: number): void {
    // Read while closing too: shutdown() waits for the queued tasks, which
    // must still fail if no node can take them.
    if (now - this.#nodes.readAt < ROUTE_EVERY_MS) return;
    const engine = this.#link.engine;
    if (engine === undefined) {
      // Idle (or not connected yet): connect, and read at the next call.
      this.#link.connect().catch(() => {});
      return;
    }
    if (!engine.up) return;
    this.#track(
      this.#nodes.read(engine).then((read) => {
        if (!read) return;
        const queued = [...this.#tasks.values()].filter((task) =>
          !this.#stats.running.has(task)
        );
        const { unroutableTimeout, queue } = this.#options;
        const at = performance.now();
        for (
          const task of failUnroutable(
            queued,
            this.#nodes,
            at,
            unroutableTimeout,
            queue,
          )
        ) {
          if (task.entryIds.length > 0) {
            this.#sender.remove(task.stream, task.entryIds);
          }
        }
      }),
    );
  }

  // While tasks are queued, the live nodes are read every ROUTE_EVERY_MS.
  #watchRoutes(): void {
    if (
      this.#routeTimer !== undefined ||
      this.#options.unroutableTimeout === Infinity
    ) return;
    this.#routeTimer = this.#link.lifetime.timer(ROUTE_EVERY_MS, () => {
      this.#routeTimer = undefined;
      if (this.#stats.queued === 0) return;
      this.#readNodes(performance.now());
      this.#watchRoutes();
    });
  }

  #watch(task: RemoteTask, signal: AbortSignal): void {
    const onAbort = () => {
      const future = task.future;
      // Pending: cancelled, and #settled removes its entry.
      if (future.cancel() || future.done()) return;
      future.setException(signal.reason);
      if (task.nodeId !== undefined) this.#sender.stop(task.nodeId, task.id);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    task.unwatch = () => signal.removeEventListener("abort", onAbort);
  }

  #settled(task: RemoteTask): void {
    this.#tasks.delete(task.id);
    this.#stats.settled(task);
    task.timer?.();
    task.unwatch?.();
    if (task.future.cancelled() && task.entryIds.length > 0) {
      this.#sender.remove(task.stream, task.entryIds);
    }
    if (task.pins.length > 0) this.#values.unpin(task.pins);
    if (this.#tasks.size === 0) {
      this.#drained?.resolve();
      this.#idleSoon();
    }
  }

  // Redis is back: the reply stream made again if Redis lost it (then
  // Redis lost the tasks too), what was held sent.
  async #back(link: Link, engine: Engine): Promise<void> {
    const generation = link.generation;
    const empty = await this.#replies.reopen(engine);
    this.#sender.back(link, generation, empty);
  }

  #onReply(reply: Reply): void {
    const task = this.#tasks.get(reply.taskId);
    if (reply.kind === "started") {
      // Settled or cancelled here: the node need not run it.
      if (task === undefined) {
        return this.#sender.stop(reply.nodeId, reply.taskId);
      }
      task.nodeId = reply.nodeId;
      this.#start(task, 0);
    } else if (reply.kind === "progress" && task !== undefined) {
      task.nodeId = reply.nodeId;
      this.#start(task, 0);
      task.future.setProgress(reply.value);
    } else if (reply.kind === "result") {
      const stored = reply.ok ? reply.stored : undefined;
      // No future waits for it: a value a node kept for it goes.
      if (task === undefined) {
        if (stored !== undefined) this.#values.drop(stored);
        return;
      }
      // Its run time as the node measured it (the reply's trip aside).
      this.#start(task, reply.ms ?? 0);
      if (stored !== undefined) {
        task.ok = true;
        return task.future.setResult(
          this.#values.result(stored, task.chunk, fixChunk),
        );
      }
      const outcome = fromResultReply(reply, task.chunk);
      if (outcome.ok) {
        task.ok = true;
        task.future.setResult(outcome.value);
      } else task.future.setException(outcome.error);
    }
  }

  // A node reports the task started `ago` ms before now: in #tasks, so not
  // done: pending, now running.
  #start(task: RemoteTask, ago: number): void {
    if (this.#stats.started(task, ago)) task.future.setRunningOrNotifyCancel();
  }
}
