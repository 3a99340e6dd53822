// The node side of a queue: takes tasks from the group, runs them on the
// node's own pool executor, answers, and keeps the lease of what it holds.
//
//   task stream ── #readTasks: read / claimExpired, at most the free room ─┐
//        ▲                                                                 ▼
//        │ Leases: extend every lease/3 ◄── #held ── runOnPool ── worker
//        │                                  └──> NodeOutbox: started, result,
//        │                                                  then XACK + XDEL
//   ControlStream: "stop" ── aborts the task's signal
//   Presence: every second, "alive, with these workers"
import type { Future } from "../../../future/future.ts";
import type { ExecutorState } from "../../_pool/submit.ts";
import { type Delivery, type Engine, isReply } from "../_engine/engine.ts";
import type { Link } from "../_engine/link.ts";
import { decode } from "../_wire/codec.ts";
import type { NodeInfo, TaskRecord } from "../_wire/records.ts";
import { type Outcome, toResultReply } from "../_wire/result.ts";
import { FIELD, GROUP, taskKey, taskStream } from "../_wire/streams.ts";
import { refusal, type RunLimits, runOnPool } from "./admission.ts";
import { ControlStream } from "./control.ts";
import { halt, type Held } from "./held.ts";
import { Leases } from "./leases.ts";
import { NodeOutbox } from "./outbox.ts";
import { Presence } from "./presence.ts";

/** What the runner needs, already checked. */
export interface RunnerOptions extends RunLimits {
  nodeId: string;
  queue: string;
  /** Normalized URL prefixes of the module tasks it runs. */
  allowModules: string[];
}

// A blocking read of the task stream waits this long before the loop looks
// around (claims, closing): close() may wait this long for a read in
// flight, whose tasks it then runs.
const READ_BLOCK_MS = 1_000;
// How often a node with free workers looks for tasks of dead nodes.
const CLAIM_EVERY_MS = 1_000;
// Pending entries idle less than this are never examined for a claim.
const CLAIM_FLOOR_MS = 10;
// How often a node removes the group's consumers of nodes that died without
// leaving, and how long such a consumer must have been silent.
const SWEEP_EVERY_MS = 60_000;
const SWEEP_IDLE_MS = 60_000;

/** One node's work on one queue. */
export class Runner {
  readonly #link: Link;
  readonly #state: ExecutorState;
  readonly #options: RunnerOptions;
  readonly #stream: string;
  readonly #outbox: NodeOutbox;
  readonly #control: ControlStream;
  readonly #presence: Presence;
  readonly #leases: Leases;
  readonly #held = new Map<string, Held>();
  // Handed to the pool and not settled: at most maxWorkers + prefetch.
  #running = 0;
  // The read loop waits here while it has no room.
  #freed: PromiseWithResolvers<void> | undefined;
  #lastClaim = -Infinity;
  #lastSweep = -Infinity;
  // Tasks it answered with a value, and with an error.
  #completed = 0;
  #failed = 0;
  #closing = false;
  readonly #closingWait = Promise.withResolvers<void>();
  #emptied: PromiseWithResolvers<void> | undefined;
  #reading: Promise<void> | undefined;

  constructor(link: Link, state: ExecutorState, options: RunnerOptions) {
    this.#link = link;
    this.#state = state;
    this.#options = options;
    const { queue, nodeId } = options;
    this.#stream = taskStream(queue);
    this.#outbox = new NodeOutbox(link, queue);
    this.#control = new ControlStream(link, queue, nodeId, (key) => {
      const held = this.#held.get(key);
      if (held === undefined || held.state === "replying") return;
      held.stopped = "stop";
      halt(held, "The task was stopped by its executor");
    });
    this.#presence = new Presence(
      link,
      queue,
      nodeId,
      () => this.#info(),
      [this.#control.name],
    );
    this.#leases = new Leases(link, this.#stream, nodeId, this.#held, (h) => {
      h.stopped = "lost";
      halt(h, "The task's lease was lost");
    });
  }

  /** Creates the group (if needed) and starts reading. */
  async start(engine: Engine): Promise<void> {
    await engine.createGroup(this.#stream, GROUP);
    await this.#control.open(engine);
    this.#reading = this.#readTasks(engine);
    this.#control.read(engine, () => this.#closing, this.#closingWait.promise);
    this.#presence.start(engine);
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
    await this.#reading;
    await this.#presence.stop();
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
    this.#leases.stop();
    this.#outbox.discard();
    left.push(...this.#held.values());
    for (const held of this.#held.values()) this.#abandon(held);
    const engine = this.#link.engine;
    if (!engine?.up) return;
    await this.#presence.leave(engine);
    const { nodeId } = this.#options;
    if (left.length > 0) {
      // Other nodes take them at once rather than after their lease; the
      // consumer stays until they have (a live node sweeps it later).
      const ids = [...new Set(left.map((held) => held.entryId))];
      await engine.release(this.#stream, GROUP, nodeId, ids).catch(() => {});
      return;
    }
    await engine.removeConsumer(this.#stream, GROUP, nodeId).catch(() => {});
    await this.#control.drop(engine);
  }

  /**
   * Redis is back: what this node holds is checked at once, since Redis may
   * have restarted without it (then its tasks stop; their executors fail
   * them), and its control stream is made again if it was lost.
   */
  back(engine: Engine): void {
    this.#control.open(engine).catch(() => {});
    this.#leases.now();
  }

  // Gives up on a task: never answered, stopped where it can be.
  #abandon(held: Held): void {
    if (held.stopped === "lost") return;
    held.stopped = "lost";
    halt(held, "The node closed before the task ended");
  }

  // What it announces of itself.
  #info(): NodeInfo {
    const { maxWorkers } = this.#state.pool;
    return {
      workers: maxWorkers,
      labels: [],
      busy: Math.min(this.#running, maxWorkers),
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
        const now = performance.now();
        if (now - this.#lastClaim >= CLAIM_EVERY_MS) {
          this.#lastClaim = now;
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
        if (now - this.#lastSweep >= SWEEP_EVERY_MS) {
          this.#lastSweep = now;
          await engine.sweepConsumers(this.#stream, GROUP, SWEEP_IDLE_MS);
        }
        const blockMs = Math.min(READ_BLOCK_MS, CLAIM_EVERY_MS);
        this.#take(
          await engine.read(this.#stream, GROUP, nodeId, room, blockMs),
        );
      } catch (error) {
        if (this.#link.closed) return;
        // A group Redis lost (it restarted empty) is made again.
        if (isReply(error, "NOGROUP")) {
          await engine.createGroup(this.#stream, GROUP).catch(() => {});
        }
        await Promise.race([
          this.#link.afterError(error),
          this.#closingWait.promise,
        ]);
      }
    }
  }

  #take(deliveries: Delivery[]): void {
    const { nodeId, allowModules } = this.#options;
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
      const refused = refusal(
        record,
        delivery.deliveries,
        nodeId,
        allowModules,
      );
      if (refused === undefined) this.#run(held);
      else this.#answer(held, { ok: false, error: refused });
    }
    this.#leases.schedule();
  }

  #run(held: Held): void {
    const { record } = held;
    const { nodeId } = this.#options;
    this.#running++;
    this.#outbox.started(record.executorId, record.taskId, nodeId);
    const local = runOnPool(this.#state, held, this.#options);
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

  #answer(held: Held, outcome: Outcome): void {
    held.state = "replying";
    if (outcome.ok) this.#completed++;
    else this.#failed++;
    const { executorId, taskId, chunk } = held.record;
    const reply = toResultReply(
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
}
