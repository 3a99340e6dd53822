// The node side of a queue: takes tasks from the group, runs them on the
// node's own pool executor, answers, and keeps the lease of what it holds.
//
//   task stream ── #readTasks: read / claimExpired, at most the free room ─┐
//        ▲                                                                 ▼
//        │ extend every lease/3 ◄── #held ── #run ── submitTo(pool) ── worker
//        │                                       └──> NodeOutbox: started, result,
//        │                                                         then XACK + XDEL
//   control stream ── #readControl: "stop" ── aborts the task's signal
//
// A task's source is only ever compiled inside the pool's workers (its
// sandbox); this side handles it as data. The pool executor the node was
// given decides every permission: nothing in a task can widen it.
import { Future } from "../../future/future.ts";
import { BrokenExecutorError, TimeoutError } from "../../future/errors.ts";
import { toRecord } from "../_wire/error_record.ts";
import { moduleSpec, sourceSpec } from "../_base/function_spec.ts";
import type { FunctionSpec } from "../_wire/protocol.ts";
import type { ChunkOutcome } from "../executor.ts";
import { checkOpen, type ExecutorState, submitTo } from "../_pool/submit.ts";
import type { Delivery, Engine } from "./_engine.ts";
import { decode } from "./_codec.ts";
import type { Link } from "./_link.ts";
import { NodeOutbox } from "./_node_outbox.ts";
import {
  controlStream,
  FIELD,
  GROUP,
  nodeDataKey,
  type NodeInfo,
  nodesKey,
  type ResultReply,
  type StopRecord,
  taskKey,
  type TaskRecord,
  taskStream,
} from "./_wire.ts";

/** What the runner needs, already checked. */
export interface RunnerOptions {
  nodeId: string;
  queue: string;
  /** Normalized URL prefixes of the module tasks it runs. */
  allowModules: string[];
  /** Tasks it may hold beyond its free workers. */
  prefetch: number;
  /** ms a task may run on this node, whatever its submitter asked. */
  maxTaskTime: number;
}

// A blocking read of the task or control stream waits this long before the
// loop looks around (claims, closing): close() may wait this long for a
// read in flight, whose tasks it then runs.
const READ_BLOCK_MS = 1_000;
// How often a node with free workers looks for tasks of dead nodes.
const CLAIM_EVERY_MS = 1_000;
// Pending entries idle less than this are never examined for a claim.
const CLAIM_FLOOR_MS = 10;
// After an error Redis answered (not an outage), loops wait this long.
const ERROR_PAUSE_MS = 1_000;
// A node announces itself (and its workers) this often, for its executors'
// stats(); one that stops announcing counts as gone after NODE_TTL_MS.
const ANNOUNCE_EVERY_MS = 1_000;
const NODE_TTL_MS = 3_000;
// What a node made for itself (its control stream) and the queue's set of
// live nodes expire this long after the last announcement: a node killed
// without closing leaves nothing for good.
const OWN_TTL_MS = 60_000;
// How often a node removes the group's consumers of nodes that died without
// leaving, and how long such a consumer must have been silent.
const SWEEP_EVERY_MS = 60_000;
const SWEEP_IDLE_MS = 60_000;
// The control stream's marker group: it exists only so that the stream can
// be made empty (XGROUP CREATE … MKSTREAM), and given a time-to-live.
const CONTROL_MARK = "node";

/** A task this node holds, from its delivery to its acknowledgement. */
interface Held {
  key: string;
  entryId: string;
  record: TaskRecord;
  state: "running" | "replying";
  /** Its future in the node's pool. */
  local?: Future<unknown>;
  /** Stops it at once (terminates its worker); with prefetch, only tasks
   * with a signal or timeout have one. */
  controller?: AbortController;
  /** "stop": its executor asked; "lost": its entry is no longer ours. */
  stopped?: "stop" | "lost";
  /** performance.now() at its hand-over to the pool. */
  startedAt?: number;
  /** The node's maxTaskTime, when it is shorter than the task's timeout. */
  nodeLimit?: number;
}

/** One node's work on one queue. */
export class Runner {
  readonly #link: Link;
  readonly #state: ExecutorState;
  readonly #options: RunnerOptions;
  readonly #stream: string;
  readonly #control: string;
  readonly #outbox: NodeOutbox;
  readonly #held = new Map<string, Held>();
  // Handed to the pool and not settled: at most maxWorkers + prefetch.
  #running = 0;
  // The read loop waits here while it has no room.
  #freed: PromiseWithResolvers<void> | undefined;
  #lastClaim = -Infinity;
  #lastSweep = -Infinity;
  // Clears the pending lease extension, if one is armed.
  #extendTimer: (() => void) | undefined;
  #announceTimer: (() => void) | undefined;
  #announcing: Promise<void> | undefined;
  // Tasks it answered with a value, and with an error.
  #completed = 0;
  #failed = 0;
  #closing = false;
  readonly #closingWait = Promise.withResolvers<void>();
  #emptied: PromiseWithResolvers<void> | undefined;
  #loops: Promise<void>[] = [];

  constructor(link: Link, state: ExecutorState, options: RunnerOptions) {
    this.#link = link;
    this.#state = state;
    this.#options = options;
    this.#stream = taskStream(options.queue);
    this.#control = controlStream(options.queue, options.nodeId);
    this.#outbox = new NodeOutbox(link, options.queue);
  }

  /** Creates the group (if needed) and starts reading. */
  async start(engine: Engine): Promise<void> {
    await engine.createGroup(this.#stream, GROUP);
    // Made here, so executors never make it (they add with noCreate).
    await engine.createGroup(this.#control, CONTROL_MARK);
    await engine.expire([this.#control], OWN_TTL_MS);
    this.#loops = [this.#readTasks(engine), this.#readControl(engine)];
    this.#announce(engine);
  }

  // Tells the executors' stats() this node and its workers are alive, now
  // and every ANNOUNCE_EVERY_MS until it closes, and renews what it owns; a
  // failed one is skipped.
  #announce(engine: Engine): void {
    this.#announcing = Promise.all([
      engine.announce(
        nodesKey(this.#options.queue),
        nodeDataKey(this.#options.queue),
        this.#options.nodeId,
        JSON.stringify(this.#info()),
        { ttlMs: NODE_TTL_MS, keyTtlMs: OWN_TTL_MS },
      ),
      engine.expire([this.#control], OWN_TTL_MS),
    ]).then(() => {}, () => {})
      .finally(() => {
        if (this.#closing) return;
        this.#announceTimer = this.#link.lifetime.timer(
          ANNOUNCE_EVERY_MS,
          () => this.#announce(engine),
        );
      });
  }

  /**
   * Takes no more tasks, runs and answers those it holds, then leaves the
   * group. It gives up on what still runs once `grace` ms have passed, or
   * Redis has been unreachable for connectTimeout: those tasks are stopped
   * where they can be, never answered, and handed back to the group (or,
   * without Redis, left to lapse with their leases) for other nodes.
   */
  async close(grace = Infinity): Promise<void> {
    this.#closing = true;
    this.#closingWait.resolve();
    this.#freed?.resolve();
    this.#announceTimer?.();
    await this.#loops[0];
    await this.#announcing;
    this.#announceTimer?.();
    const lost = this.#link.whenLost();
    if (this.#held.size > 0) {
      this.#emptied = Promise.withResolvers<void>();
      const waits = [this.#emptied.promise, lost];
      if (grace !== Infinity) waits.push(this.#link.lifetime.sleep(grace));
      await Promise.race(waits);
    }
    const left = [...this.#held.values()].filter((h) => h.state === "running");
    for (const held of left) this.#abandon(held);
    // The answers of what did finish go out, if Redis lets them.
    await Promise.race([this.#outbox.drained(), lost]);
    this.#extendTimer?.();
    this.#outbox.discard();
    left.push(...this.#held.values());
    for (const held of this.#held.values()) this.#abandon(held);
    const engine = this.#link.engine;
    if (!engine?.up) return;
    const { queue, nodeId } = this.#options;
    await engine.retire(nodesKey(queue), nodeDataKey(queue), nodeId)
      .catch(() => {});
    if (left.length > 0) {
      // Other nodes take them at once rather than after their lease; the
      // consumer stays until they have (a live node sweeps it later).
      const ids = [...new Set(left.map((held) => held.entryId))];
      await engine.release(this.#stream, GROUP, nodeId, ids).catch(() => {});
      return;
    }
    await engine.removeConsumer(this.#stream, GROUP, nodeId).catch(() => {});
    await engine.drop([this.#control]).catch(() => {});
  }

  // Gives up on a task: never answered, stopped where it can be.
  #abandon(held: Held): void {
    if (held.stopped === "lost") return;
    held.stopped = "lost";
    halt(held, "The node closed before the task ended");
  }

  /**
   * Redis is back: what this node holds is checked at once, since Redis may
   * have restarted without it (then its tasks stop; their executors fail
   * them).
   */
  back(engine: Engine): void {
    // A Redis restarted empty lost the control stream: made again.
    engine.createGroup(this.#control, CONTROL_MARK)
      .then(() => engine.expire([this.#control], OWN_TTL_MS))
      .catch(() => {});
    if (this.#held.size === 0) return;
    this.#extendTimer?.();
    this.#extendTimer = undefined;
    this.#extend().finally(() => this.#scheduleExtend());
  }

  // What it announces of itself.
  #info(): NodeInfo {
    return {
      workers: this.#state.pool.maxWorkers,
      labels: [],
      busy: Math.min(this.#running, this.#state.pool.maxWorkers),
      completed: this.#completed,
      failed: this.#failed,
    };
  }

  // How many more tasks it takes: its free workers, plus the read-ahead.
  #room(): number {
    const { maxWorkers } = this.#state.pool;
    return Math.max(0, maxWorkers + this.#options.prefetch - this.#running);
  }

  // Whether to read now: always while a worker is free; with read-ahead,
  // only once half of it is used up, so a busy node reads in batches
  // rather than one task per finished task.
  #reads(room: number): boolean {
    if (room === 0) return false;
    if (this.#running < this.#state.pool.maxWorkers) return true;
    return room >= Math.ceil(this.#options.prefetch / 2);
  }

  async #readTasks(engine: Engine): Promise<void> {
    const { nodeId } = this.#options;
    while (!this.#closing && !this.#link.closed) {
      const room = this.#room();
      if (!this.#reads(room)) {
        this.#freed = Promise.withResolvers<void>();
        await this.#freed.promise;
        continue;
      }
      try {
        if (performance.now() - this.#lastClaim >= CLAIM_EVERY_MS) {
          this.#lastClaim = performance.now();
          const claimed = await engine.claimExpired(
            this.#stream,
            GROUP,
            nodeId,
            {
              leaseField: FIELD.LEASE,
              minIdleMs: CLAIM_FLOOR_MS,
              count: room,
            },
          );
          this.#take(claimed.entries);
          continue;
        }
        if (performance.now() - this.#lastSweep >= SWEEP_EVERY_MS) {
          this.#lastSweep = performance.now();
          await engine.sweepConsumers(this.#stream, GROUP, SWEEP_IDLE_MS);
        }
        const blockMs = Math.min(READ_BLOCK_MS, CLAIM_EVERY_MS);
        this.#take(
          await engine.read(this.#stream, GROUP, nodeId, room, blockMs),
        );
      } catch (error) {
        await this.#recover(engine, error);
      }
    }
  }

  // After a failed read: a group Redis lost (it restarted empty) is made
  // again; an outage is waited out.
  async #recover(engine: Engine, error: unknown): Promise<void> {
    const { kind } = error as { kind?: string };
    if (kind === "closed" || this.#link.closed) return;
    if (isNoGroup(error)) {
      await engine.createGroup(this.#stream, GROUP).catch(() => {});
    } else if (kind === "reply") {
      await this.#link.pause(ERROR_PAUSE_MS);
    }
    await Promise.race([this.#link.whenUp(), this.#closingWait.promise]);
  }

  #take(deliveries: Delivery[]): void {
    for (const delivery of deliveries) {
      let record: TaskRecord;
      try {
        record = decode<TaskRecord>(delivery.fields[FIELD.TASK]);
      } catch {
        // Not a task (another program's entry): nobody to answer.
        this.#outbox.ack(delivery.id, () => {});
        continue;
      }
      const key = taskKey(record.executorId, record.taskId);
      if (this.#held.has(key)) continue; // ours already
      const held: Held = {
        key,
        entryId: delivery.id,
        record,
        state: "running",
      };
      this.#held.set(key, held);
      const refusal = this.#refusal(record, delivery.deliveries);
      if (refusal === undefined) this.#run(held);
      else this.#answer(held, { ok: false, error: refusal });
    }
    this.#scheduleExtend();
  }

  // Why the node does not run a task it was handed, if it does not.
  #refusal(record: TaskRecord, deliveries: number): Error | undefined {
    const { nodeId, allowModules } = this.#options;
    if (deliveries > record.maxAttempts) {
      return new BrokenExecutorError(
        `The task was delivered ${
          deliveries - 1
        } times to nodes that died under it (maxAttempts ${record.maxAttempts}): node ${nodeId} did not run it again`,
      );
    }
    const fn = record.fn as { source?: unknown; module?: unknown };
    if (typeof fn?.source === "string") return undefined;
    if (typeof fn?.module !== "string") {
      return new TypeError(`Node ${nodeId} got a task with no function`);
    }
    let url: string;
    try {
      url = new URL(fn.module).href;
    } catch {
      url = String(fn.module);
    }
    if (allowModules.some((prefix) => url.startsWith(prefix))) return undefined;
    return new Deno.errors.NotCapable(
      `Node ${nodeId} does not run module task ${url}: it is under no 'allowModules' prefix of the node (${
        allowModules.length === 0 ? "none allowed" : allowModules.join(", ")
      })`,
    );
  }

  // Hands a task to the pool, which starts it at once on a free worker
  // (with prefetch, it may wait there behind others). Each task gets a
  // signal of the node's, so a `stop` or a lost lease ends it where it runs
  // and frees its worker: the pool then runs it alone on a worker, which
  // costs nothing while the node takes only what its free workers can run.
  // With prefetch, only a task with a signal or a timeout of its own gets
  // one; the rest go without, so that the pool may batch them.
  #run(held: Held): void {
    const { record } = held;
    this.#running++;
    const { nodeId, prefetch, maxTaskTime } = this.#options;
    this.#outbox.started(record.executorId, record.taskId, nodeId);
    // The node's own limit, where it is the shorter: its TimeoutError says so.
    const timeout = Math.min(record.timeout ?? Infinity, maxTaskTime);
    if (timeout < (record.timeout ?? Infinity)) held.nodeLimit = timeout;
    const stoppable = prefetch === 0 || record.stoppable === true ||
      timeout !== Infinity;
    if (stoppable) held.controller = new AbortController();
    let local: Future<unknown>;
    try {
      checkOpen(this.#state);
      local = submitTo(
        this.#state,
        specOf(record),
        record.args,
        stoppable
          ? {
            timeout: timeout === Infinity ? undefined : timeout,
            signal: held.controller!.signal,
          }
          : undefined,
        record.chunk,
      );
    } catch (error) {
      local = new Future();
      local.setException(error);
    }
    held.local = local;
    held.startedAt = performance.now();
    local.addProgressCallback((value) => {
      if (held.stopped !== undefined) return;
      this.#outbox.progress(record.executorId, record.taskId, nodeId, value);
    });
    local.addDoneCallback(() => this.#finished(held, local));
  }

  async #finished(held: Held, local: Future<unknown>): Promise<void> {
    this.#running--;
    held.controller = undefined;
    this.#freed?.resolve();
    if (held.stopped === "lost") return this.#release(held);
    if (held.stopped === "stop") {
      held.state = "replying";
      return this.#outbox.ack(held.entryId, () => this.#release(held));
    }
    try {
      this.#answer(held, { ok: true, value: await local.result() });
    } catch (error) {
      this.#answer(held, { ok: false, error });
    }
  }

  #answer(
    held: Held,
    outcome: { ok: true; value: unknown } | { ok: false; error: unknown },
  ): void {
    held.state = "replying";
    if (outcome.ok) this.#completed++;
    else this.#failed++;
    const { executorId, taskId, chunk } = held.record;
    const reply = resultReply(
      taskId,
      this.#options.nodeId,
      chunk,
      outcome,
      held.nodeLimit,
    );
    if (held.startedAt !== undefined) {
      reply.ms = performance.now() - held.startedAt;
    }
    this.#outbox.result(
      executorId,
      reply,
      held.entryId,
      () => this.#release(held),
    );
  }

  #release(held: Held): void {
    this.#held.delete(held.key);
    if (this.#held.size === 0) this.#emptied?.resolve();
  }

  #scheduleExtend(): void {
    if (this.#extendTimer !== undefined || this.#held.size === 0) return;
    let lease = Infinity;
    for (const held of this.#held.values()) {
      lease = Math.min(lease, held.record.lease);
    }
    this.#extendTimer = this.#link.lifetime.timer(lease / 3, () => {
      this.#extendTimer = undefined;
      this.#extend().finally(() => this.#scheduleExtend());
    });
  }

  // Keeps what this node holds from being claimed. An entry it no longer
  // holds was removed (its future was cancelled) or taken by a node that
  // thought this one dead: it is not run, or stopped, and never answered.
  async #extend(): Promise<void> {
    const engine = this.#link.engine;
    const held = [...this.#held.values()];
    if (engine === undefined || held.length === 0) return;
    let kept: Set<string>;
    try {
      const ids = held.map((h) => h.entryId);
      const { nodeId } = this.#options;
      kept = new Set(await engine.extend(this.#stream, GROUP, nodeId, ids));
    } catch (error) {
      // No group: Redis restarted empty, and nothing held is ours.
      if (!isNoGroup(error)) return; // the next round tries again
      kept = new Set();
    }
    for (const h of held) {
      if (kept.has(h.entryId) || h.state === "replying") continue;
      if (!this.#held.has(h.key)) continue;
      h.stopped = "lost";
      halt(h, "The task's lease was lost");
    }
  }

  async #readControl(engine: Engine): Promise<void> {
    let lastId = "0";
    // Closing without Redis, no stop can come.
    while (!this.#link.closed && !(this.#closing && !engine.up)) {
      let read;
      try {
        read = await engine.readReplies(this.#control, lastId, READ_BLOCK_MS);
      } catch (error) {
        await this.#recover(engine, error);
        continue;
      }
      lastId = read.lastId;
      if (read.entries.length === 0) continue;
      engine.remove(this.#control, read.entries.map((e) => e.id))
        .catch(() => {});
      for (const entry of read.entries) {
        try {
          const stop = decode<StopRecord>(entry.fields[FIELD.CONTROL]);
          this.#stop(taskKey(stop.executorId, stop.taskId));
        } catch { /* not a stop */ }
      }
    }
  }

  // Its executor no longer wants the task: drop it, or stop it where it
  // runs; its entry leaves the queue unanswered.
  #stop(key: string): void {
    const held = this.#held.get(key);
    if (held === undefined || held.state === "replying") return;
    held.stopped = "stop";
    halt(held, "The task was stopped by its executor");
  }
}

// Ends a task the node no longer answers for: dropped from the pool's queue
// if it has not started there, stopped if it can be; otherwise it runs to
// its end and its outcome is dropped.
function halt(held: Held, why: string): void {
  if (held.local?.cancel()) return;
  held.controller?.abort(new Error(why));
}

// Redis's answer when the group (or its stream) does not exist.
function isNoGroup(error: unknown): boolean {
  const { kind, message } = error as { kind?: string; message?: string };
  return kind === "reply" && message?.includes("NOGROUP") === true;
}

function specOf(record: TaskRecord): FunctionSpec {
  const fn = record.fn as { source?: string; module: string; name: string };
  return fn.source !== undefined
    ? sourceSpec(fn.source)
    : moduleSpec(fn.module, fn.name);
}

// The reply for an outcome: errors as records, those of the node's side
// (its pool's timeout, a worker's death) marked so the executor rebuilds
// this library's classes, and named after the node.
function resultReply(
  taskId: number,
  nodeId: string,
  chunk: 0 | 1,
  outcome: { ok: true; value: unknown } | { ok: false; error: unknown },
  nodeLimit: number | undefined,
): ResultReply {
  if (outcome.ok) {
    let value = outcome.value;
    if (chunk === 1) {
      const { values, error } = value as ChunkOutcome;
      value = error === undefined
        ? { values }
        : { values, error: toRecord(error) };
    }
    return { kind: "result", taskId, nodeId, ok: true, value };
  }
  const error = outcome.error;
  const fault = error instanceof TimeoutError
    ? "TimeoutError"
    : error instanceof BrokenExecutorError
    ? "BrokenExecutorError"
    : undefined;
  const record = toRecord(error);
  if (fault === "TimeoutError" && nodeLimit !== undefined && record.error) {
    record.message =
      `The task ran past node ${nodeId}'s maxTaskTime of ${nodeLimit} ms, which bounds every task it runs: it was stopped`;
  } else if (fault !== undefined && record.error) {
    record.message = `${record.message} (on node ${nodeId})`;
  }
  return { kind: "result", taskId, nodeId, ok: false, error: record, fault };
}
