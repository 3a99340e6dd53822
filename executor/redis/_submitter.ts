// The executor side of a RedisExecutor: its tasks from submit to settle.
//
//   run() ─ encode ─> #unsent ── one addMany per microtask ──> task stream
//                       │ failed to send: held until Redis is back,
//                       │ each failing connectTimeout after its submit
//   reply stream ── #read (XREAD BLOCK) ── "started" ─> future running
//                                      └── "result"  ─> future settled
//   cancel() of a pending task ── XDEL its entry (it never runs)
//   signal while running ── fails now, "stop" to its node's control stream
//
// A task stays in #tasks until its future is done, however it got done; a
// reply for a task not there (settled, or a second run after its node was
// thought dead) is dropped, and a "started" one is answered with "stop".
import { Future } from "../../future/future.ts";
import { BrokenExecutorError, TimeoutError } from "../../future/errors.ts";
import { fromRecord } from "../_wire/error_record.ts";
import { Histogram } from "../_base/histogram.ts";
import type { ExecutorStats } from "../stats.ts";
import type { ChunkRecord, ErrorRecord, RawThrow } from "../_wire/protocol.ts";
import type { Engine, Fields } from "./_engine.ts";
import { decode, encode } from "./_codec.ts";
import { Link } from "./_link.ts";
import { LiveNodes } from "./_live_nodes.ts";
import {
  controlStream,
  type Fault,
  FIELD,
  type Reply,
  replyStream,
  type ResultReply,
  type StopRecord,
  type TaskFunction,
  type TaskRecord,
  taskStream,
} from "./_wire.ts";

/** What the submitter needs, already checked. */
export interface SubmitterOptions {
  url: string;
  queue: string;
  connectTimeout: number;
  lease: number;
  maxAttempts: number;
  /** ms no live node could take a queued task before it fails. */
  unroutableTimeout: number;
}

// A reply read blocks this long before the loop reads again; shorter only
// costs idle round trips (a reply wakes it at once).
const READ_BLOCK_MS = 2_000;
// Replies taken per read: a burst of results is read in few round trips.
const READ_COUNT = 1_000;
// A node's control stream is kept to about this many stops: a dead node's
// stream is never read, so it must not grow.
const CONTROL_MAXLEN = 1_000;
// After an error Redis answered (not an outage), the reader waits this long
// before it reads again, so a bad key cannot make it spin.
const ERROR_PAUSE_MS = 1_000;
// The reply stream's consumer group, used only as a marker: missing after
// Redis was back means Redis lost its data, and what it held is gone.
const MARK_GROUP = "alive";
// stats() reads the live nodes from Redis at most this often (in the
// background: it returns what the last read found); so does the executor
// while it has queued tasks, to fail those no live node can take.
const NODES_EVERY_MS = 1_000;
// An executor with no task lets its program end, as a pool's idle workers
// do: this long after its last future settles it closes its connection and
// deletes its reply stream; the next submit connects again (a few ms).
// Shorter lets a program end sooner; longer saves reconnects to a program
// that submits in bursts.
const IDLE_MS = 1_000;
// The reply stream expires this long after the executor last renewed it
// (every third of it while connected), so a program killed without shutdown
// leaves nothing for good. Longer than connectTimeout: within an outage the
// executor survives, its stream must not expire.
const REPLY_TTL_MS = 60_000;

/** One submitted task, until its future is done. */
class RemoteTask {
  readonly submittedAt = performance.now();
  /** Its stream entries (two if a send was retried after a lost reply). */
  readonly entryIds: string[] = [];
  /** The link generation its entry was written in. */
  generation = -1;
  /** The node that reported its start last. */
  nodeId: string | undefined;
  /** Settled with a value (set just before its future is). */
  ok = false;
  /** performance.now() at its start, as the node's replies tell it. */
  startedAt = 0;
  /** Clears the timer that fails it if it cannot be sent in time. */
  timer: (() => void) | undefined;
  unwatch: (() => void) | undefined;
  /** The labels a node must have to run it. */
  labels: readonly string[] = [];
  /**
   * ms, watched, with no live node that could take it; and when it was
   * last watched (performance.now()).
   */
  unroutableMs = 0;
  watchedAt = this.submittedAt;

  constructor(
    readonly id: number,
    readonly future: Future<unknown>,
    readonly chunk: boolean,
    readonly fields: Fields,
  ) {}
}

/** The tasks of one RedisExecutor. */
export class Submitter {
  /** This executor's id: its reply stream's name ends with it. */
  readonly id: string = crypto.randomUUID();
  readonly #options: SubmitterOptions;
  // The connection: a new one after each idle spell (see IDLE_MS).
  #link: Link;
  // Each link's reply reader, until it ends.
  readonly #readers = new Map<Link, Promise<void>>();
  // Clears the idle timer, while one is armed.
  #idleTimer: (() => void) | undefined;
  // A link being closed after an idle spell; close() waits for it.
  #parking: Promise<void> | undefined;
  #closing = false;
  readonly #stream: string;
  readonly #replies: string;
  // Every task whose future is not done; by task id.
  readonly #tasks = new Map<number, RemoteTask>();
  // Submitted this turn, sent together at the end of it.
  #unsent: RemoteTask[] = [];
  #flushScheduled = false;
  // Sends that failed: they go again once Redis is back.
  #held: RemoteTask[] = [];
  // Tasks not started and not done, for maxQueued.
  #queued = 0;
  #nextId = 1;
  // Entries of tasks failed by an outage: removed once Redis is back, so
  // they do not run after their futures failed.
  #abandoned: string[] = [];
  // Removes and stops in flight; close() waits for them.
  readonly #inFlight = new Set<Promise<unknown>>();
  #drained: PromiseWithResolvers<void> | undefined;
  // For stats(): the counts, and the timings in fixed-size histograms.
  readonly #runTime = new Histogram();
  readonly #waitTime = new Histogram();
  // Started (a node said so) and not done: tasks leave #queued for here.
  readonly #running = new Set<RemoteTask>();
  #completed = 0;
  #failed = 0;
  #cancelled = 0;
  // Run ms of the tasks settled.
  #busyMs = 0;
  // The queue's live nodes, as last read.
  readonly #nodes: LiveNodes;
  // Clears the timer that reads the live nodes while tasks are queued.
  #routeTimer: (() => void) | undefined;

  constructor(options: SubmitterOptions) {
    this.#options = options;
    this.#stream = taskStream(options.queue);
    this.#replies = replyStream(options.queue, this.id);
    this.#nodes = new LiveNodes(options.queue);
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
      connected: (engine) => this.#connected(link, engine),
      up: (engine) => this.#track(this.#back(link, engine)),
      lost: (cause) => this.#lost(cause),
    });
    return link;
  }

  /** How many tasks are queued and not started. */
  get queued(): number {
    return this.#queued;
  }

  /**
   * Queues a task; it is sent with the others submitted in this turn.
   *
   * @throws {DOMException} `DataCloneError` for arguments node:v8 cannot
   * serialize.
   */
  submit(
    fn: TaskFunction,
    args: unknown[],
    chunk: 0 | 1,
    timeout: number | undefined,
    signal: AbortSignal | undefined,
  ): Future<unknown> {
    const future = new Future<unknown>();
    if (signal?.aborted) {
      future.setException(signal.reason);
      return future;
    }
    const { lease, maxAttempts } = this.#options;
    const id = this.#nextId++;
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
    const task = new RemoteTask(id, future, chunk === 1, {
      [FIELD.TASK]: encodeTask(record),
      [FIELD.LEASE]: String(lease),
    });
    this.#tasks.set(id, task);
    this.#queued++;
    this.#idleTimer?.();
    this.#idleTimer = undefined;
    this.#watchRoutes();
    future.addDoneCallback(() => this.#settled(task));
    if (signal !== undefined) this.#watch(task, signal);
    this.#unsent.push(task);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      queueMicrotask(() => this.#flush());
    }
    return future;
  }

  /**
   * A snapshot of this executor's tasks; `workers` counts the workers of
   * the live nodes of the queue, as last read from Redis (read again in the
   * background once it is older than a second), and `busy` this executor's
   * tasks running on them.
   */
  stats(): ExecutorStats {
    const now = performance.now();
    this.#readNodes(now);
    let busyMs = this.#busyMs;
    for (const task of this.#running) busyMs += now - task.startedAt;
    const workers = this.#nodes.workers;
    const capacity = this.#nodes.capacity(now);
    const running = this.#running.size;
    return {
      workers,
      busy: Math.min(running, workers),
      queued: this.#queued,
      running,
      completed: this.#completed,
      failed: this.#failed,
      cancelled: this.#cancelled,
      runTime: this.#runTime.summary(),
      waitTime: this.#waitTime.summary(),
      utilization: capacity > 0 ? Math.min(1, busyMs / capacity) : 0,
    };
  }

  // Reads the live nodes in the background, at most once a NODES_EVERY_MS;
  // then fails the queued tasks no live node has been able to take for
  // unroutableTimeout.
  #readNodes(now: number): void {
    if (this.#closing || now - this.#nodes.readAt < NODES_EVERY_MS) return;
    const engine = this.#link.engine;
    if (engine === undefined) {
      // Idle (or not connected yet): connect, and read at the next call.
      this.#link.connect().catch(() => {});
      return;
    }
    if (!engine.up) return;
    this.#track(
      this.#nodes.read(engine).then((read) => {
        if (read) this.#route(performance.now());
      }),
    );
  }

  // While tasks are queued, the live nodes are read every NODES_EVERY_MS.
  #watchRoutes(): void {
    if (
      this.#routeTimer !== undefined ||
      this.#options.unroutableTimeout === Infinity
    ) return;
    this.#routeTimer = this.#link.lifetime.timer(NODES_EVERY_MS, () => {
      this.#routeTimer = undefined;
      if (this.#queued === 0) return;
      this.#readNodes(performance.now());
      this.#watchRoutes();
    });
  }

  // A queued task no live node can take counts the time it was watched so;
  // past unroutableTimeout it fails, and its entry leaves the queue. Time
  // not watched (Redis away) does not count: that is connectTimeout's.
  #route(at: number): void {
    const { unroutableTimeout, queue } = this.#options;
    for (const task of [...this.#tasks.values()]) {
      if (this.#running.has(task)) continue;
      const watched = Math.min(at - task.watchedAt, 2 * NODES_EVERY_MS);
      task.watchedAt = at;
      if (this.#nodes.canRun(task.labels)) {
        task.unroutableMs = 0;
        continue;
      }
      task.unroutableMs += watched;
      if (task.unroutableMs < unroutableTimeout) continue;
      const labels = task.labels.length === 0
        ? ""
        : ` with the labels ${task.labels.join(", ")}`;
      fail(
        task,
        new BrokenExecutorError(
          `No node serves the queue '${queue}'${labels}: none was seen for ${unroutableTimeout} ms (unroutableTimeout); is a node running, on the same queue${
            labels === "" ? "" : " with those labels"
          }?`,
        ),
      );
      if (task.entryIds.length > 0) this.#remove(task.entryIds);
    }
  }

  /** Cancels every task no node has reported started. */
  cancelQueued(): void {
    for (const task of [...this.#tasks.values()]) {
      if (!this.#running.has(task)) task.future.cancel();
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
    await this.#retire(this.#link);
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
  async #retire(link: Link): Promise<void> {
    await this.#parking;
    while (this.#inFlight.size > 0) await Promise.all(this.#inFlight);
    const engine = link.engine;
    if (engine?.up) await engine.drop([this.#replies]).catch(() => {});
    await link.close();
    await this.#readers.get(link);
    this.#readers.delete(link);
  }

  async #connected(link: Link, engine: Engine): Promise<void> {
    // The reply stream, and its marker group, exist from the start.
    await engine.createGroup(this.#replies, MARK_GROUP);
    await engine.expire([this.#replies], this.#replyTtl());
    this.#readers.set(link, this.#read(link, engine));
    this.#renew(link, engine);
    this.#idleSoon();
  }

  #replyTtl(): number {
    return Math.max(REPLY_TTL_MS, 3 * this.#options.connectTimeout);
  }

  // Keeps the reply stream alive while this link is.
  #renew(link: Link, engine: Engine): void {
    const ttl = this.#replyTtl();
    link.lifetime.timer(ttl / 3, () => {
      engine.expire([this.#replies], ttl).catch(() => {})
        .finally(() => this.#renew(link, engine));
    });
  }

  #track(promise: Promise<unknown>): void {
    const tracked = promise.catch(() => {}).finally(() =>
      this.#inFlight.delete(tracked)
    );
    this.#inFlight.add(tracked);
  }

  #watch(task: RemoteTask, signal: AbortSignal): void {
    const onAbort = () => {
      const future = task.future;
      // Pending: cancelled, and #settled removes its entry.
      if (future.cancel() || future.done()) return;
      future.setException(signal.reason);
      if (task.nodeId !== undefined) this.#stop(task.nodeId, task.id);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    task.unwatch = () => signal.removeEventListener("abort", onAbort);
  }

  #settled(task: RemoteTask): void {
    this.#tasks.delete(task.id);
    const future = task.future;
    if (future.cancelled()) this.#cancelled++;
    else if (task.ok) this.#completed++;
    else this.#failed++;
    if (this.#running.delete(task)) {
      const ms = performance.now() - task.startedAt;
      this.#busyMs += ms;
      this.#runTime.add(ms);
    } else this.#queued--;
    task.timer?.();
    task.unwatch?.();
    if (task.future.cancelled() && task.entryIds.length > 0) {
      this.#remove(task.entryIds);
    }
    if (this.#tasks.size === 0) {
      this.#drained?.resolve();
      this.#idleSoon();
    }
  }

  #remove(ids: string[]): void {
    const engine = this.#link.engine;
    if (engine === undefined) return;
    this.#track(
      engine.remove(this.#stream, ids).catch(() => {
        this.#abandoned.push(...ids);
      }),
    );
  }

  #stop(nodeId: string, taskId: number): void {
    const engine = this.#link.engine;
    if (engine === undefined) return;
    const stop: StopRecord = { kind: "stop", executorId: this.id, taskId };
    this.#track(
      // noCreate: a node that left has no control stream to fill.
      engine.add(
        controlStream(this.#options.queue, nodeId),
        { [FIELD.CONTROL]: encode(stop) },
        { maxLen: CONTROL_MAXLEN, noCreate: true },
      ),
    );
  }

  async #flush(): Promise<void> {
    this.#flushScheduled = false;
    const batch = this.#unsent.filter((task) => !task.future.done());
    this.#unsent = [];
    if (batch.length === 0) return;
    const link = this.#link;
    let engine: Engine;
    try {
      engine = await link.connect();
    } catch (error) {
      const message =
        `Cannot reach Redis at ${this.#link.where} within ${this.#options.connectTimeout} ms: the task was not sent`;
      for (const task of batch) {
        fail(task, new BrokenExecutorError(message, { cause: error }));
      }
      return;
    }
    let ids: string[];
    try {
      ids = await engine.addMany(
        this.#stream,
        batch.map((task) => task.fields),
      );
    } catch (error) {
      return this.#hold(batch, error);
    }
    const generation = link.generation;
    batch.forEach((task, i) => {
      task.entryIds.push(ids[i]);
      task.generation = generation;
      // Cancelled while the entry was being written.
      if (task.future.cancelled()) this.#remove([ids[i]]);
    });
  }

  // A send failed: the tasks go again once Redis is back (a lost reply may
  // mean an entry was written: at-least-once), each failing connectTimeout
  // after it was submitted. An error Redis answered fails them now.
  #hold(batch: RemoteTask[], error: unknown): void {
    const kind = (error as { kind?: string }).kind;
    if (kind === "reply" || kind === "closed") {
      const why = new BrokenExecutorError(
        `Cannot send the task to Redis at ${this.#link.where}: ${
          (error as Error).message
        }`,
        { cause: error },
      );
      for (const task of batch) fail(task, why);
      return;
    }
    const { connectTimeout } = this.#options;
    for (const task of batch) {
      if (task.future.done()) continue;
      const left = task.submittedAt + connectTimeout - performance.now();
      task.timer ??= this.#link.lifetime.timer(Math.max(0, left), () => {
        fail(
          task,
          new BrokenExecutorError(
            `Cannot send the task: Redis at ${this.#link.where} was unreachable for ${connectTimeout} ms`,
            { cause: error },
          ),
        );
      });
      this.#held.push(task);
    }
    this.#link.whenUp().then(() => this.#resend());
  }

  #resend(): void {
    if (this.#held.length === 0) return;
    this.#unsent.push(...this.#held.splice(0));
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      queueMicrotask(() => this.#flush());
    }
  }

  // Redis has been unreachable for connectTimeout: every task it holds
  // fails now (tasks not sent yet fail on their own timers).
  #lost(cause: Error): void {
    const error = new BrokenExecutorError(
      `${cause.message}: the task's outcome is unknown`,
      { cause },
    );
    for (const task of [...this.#tasks.values()]) {
      if (task.entryIds.length === 0) continue;
      this.#abandoned.push(...task.entryIds);
      fail(task, error);
    }
  }

  // Redis is back: drop what was abandoned, fail what a Redis restarted
  // empty has lost, send what was held.
  async #back(link: Link, engine: Engine): Promise<void> {
    const generation = link.generation;
    if (this.#abandoned.length > 0) {
      this.#remove(this.#abandoned.splice(0));
    }
    const emptied = await engine.createGroup(this.#replies, MARK_GROUP);
    if (emptied) {
      await engine.expire([this.#replies], this.#replyTtl());
      const error = new BrokenExecutorError(
        `Redis at ${this.#link.where} came back without its data (restarted without persistence?): the task was lost`,
      );
      for (const task of [...this.#tasks.values()]) {
        if (task.entryIds.length > 0 && task.generation < generation) {
          fail(task, error);
        }
      }
    }
    this.#resend();
  }

  async #read(link: Link, engine: Engine): Promise<void> {
    let lastId = "0";
    while (!link.closed) {
      let read;
      try {
        read = await engine.readReplies(
          this.#replies,
          lastId,
          READ_BLOCK_MS,
          READ_COUNT,
        );
      } catch (error) {
        if (link.closed) return;
        if ((error as { kind?: string }).kind === "reply") {
          await link.pause(ERROR_PAUSE_MS);
        }
        await link.whenUp();
        continue;
      }
      lastId = read.lastId;
      if (read.entries.length === 0) continue;
      // Read once, so the stream stays small.
      this.#track(engine.remove(this.#replies, read.entries.map((e) => e.id)));
      for (const entry of read.entries) {
        const bytes = entry.fields[FIELD.REPLIES];
        let replies: Reply[];
        try {
          replies = decode<Reply[]>(bytes);
        } catch {
          continue; // not a node's: nothing to settle
        }
        for (const reply of replies) this.#onReply(reply);
      }
    }
  }

  #onReply(reply: Reply): void {
    const task = this.#tasks.get(reply.taskId);
    if (reply.kind === "started") {
      // Settled or cancelled here: the node need not run it.
      if (task === undefined) return this.#stop(reply.nodeId, reply.taskId);
      task.nodeId = reply.nodeId;
      this.#start(task, 0);
    } else if (reply.kind === "progress" && task !== undefined) {
      task.nodeId = reply.nodeId;
      this.#start(task, 0);
      task.future.setProgress(reply.value);
    } else if (reply.kind === "result" && task !== undefined) {
      // Its run time as the node measured it (the reply's trip aside).
      this.#start(task, reply.ms ?? 0);
      settle(task, reply);
    }
  }

  // A node reports the task started `ago` ms before now.
  #start(task: RemoteTask, ago: number): void {
    if (this.#running.has(task)) return;
    task.startedAt = performance.now() - ago;
    this.#running.add(task);
    this.#waitTime.add(Math.max(0, task.startedAt - task.submittedAt));
    this.#queued--;
    // In #tasks, so not done: pending, now running.
    task.future.setRunningOrNotifyCancel();
  }
}

function encodeTask(record: TaskRecord): Uint8Array {
  try {
    return encode(record);
  } catch (error) {
    // node:v8 throws a plain Error; the pools' callers expect this name.
    const cause = (error as Error).cause as Error | undefined;
    throw new DOMException(
      `Cannot submit to RedisExecutor: ${cause?.message ?? error}`,
      "DataCloneError",
    );
  }
}

function fail(task: RemoteTask, error: unknown): void {
  if (!task.future.done()) task.future.setException(error);
}

function settle(task: RemoteTask, reply: ResultReply): void {
  if (reply.ok) {
    const value = reply.value;
    if (task.chunk) {
      const chunk = value as ChunkRecord;
      if (chunk.error !== undefined) {
        (chunk as { error: unknown }).error = fromRecord(chunk.error);
      }
    }
    task.ok = true;
    task.future.setResult(value);
  } else {
    task.future.setException(rebuild(reply.error, reply.fault));
  }
}

const FAULTS: Record<Fault, new (message: string) => Error> = {
  TimeoutError,
  BrokenExecutorError,
};

// A task's own error as fromRecord rebuilds it; one the node's side made
// (its timeout, its worker's death) as this library's class.
function rebuild(record: ErrorRecord | RawThrow, fault?: Fault): unknown {
  const error = fromRecord(record);
  if (fault === undefined || !record.error) return error;
  const rebuilt = new FAULTS[fault](record.message);
  Object.defineProperty(rebuilt, "stack", {
    value: (error as Error).stack,
    writable: true,
    configurable: true,
  });
  if ((error as Error).cause !== undefined) {
    rebuilt.cause = (error as Error).cause;
  }
  return rebuilt;
}
