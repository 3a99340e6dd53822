// The node side of a queue: takes tasks from the group, runs them on the
// node's own pool executor, answers, and keeps the lease of what it holds.
//
//   task streams ── #readTasks: Intake (claims, labels first), the room ───┐
//        ▲                                            values read (values.ts) ▼
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
import type { NodeInfo, ResultReply, TaskRecord } from "../_wire/records.ts";
import { type Outcome, toResultReply } from "../_wire/result.ts";
import { FIELD, GROUP, taskKey } from "../_wire/streams.ts";
import { refusal, type RunLimits, runOnPool, specOf } from "./admission.ts";
import { ControlStream } from "./control.ts";
import { halt, type Held } from "./held.ts";
import { Intake } from "./intake.ts";
import { NodeEvents } from "./events.ts";
import { Leases } from "./leases.ts";
import { NodeOutbox } from "./outbox.ts";
import { Presence } from "./presence.ts";
import { ReadAhead } from "./read_ahead.ts";
import { NodeValues } from "./values.ts";

/** What the runner needs, already checked. */
export interface RunnerOptions extends RunLimits {
  nodeId: string;
  queue: string;
  /** Normalized URL prefixes of the module tasks it runs. */
  allowModules: string[];
  /** Its labels, sorted. */
  labels: string[];
  /** Task events the queue's stream keeps (events.ts); 0: none written. */
  history: number;
}

/** One node's work on one queue. */
export class Runner {
  readonly #link: Link;
  readonly #state: ExecutorState;
  readonly #options: RunnerOptions;
  readonly #intake: Intake;
  readonly #values: NodeValues;
  readonly #outbox: NodeOutbox;
  readonly #control: ControlStream;
  readonly #presence: Presence;
  readonly #leases: Leases;
  readonly #held = new Map<string, Held>();
  readonly #readAhead: ReadAhead;
  // Handed to the pool and not settled: at most maxWorkers + the read-ahead.
  #running = 0;
  // The read loop waits here while it has no room.
  #freed: PromiseWithResolvers<void> | undefined;
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
    const { queue, nodeId, labels } = options;
    this.#intake = new Intake(queue, nodeId, labels);
    this.#readAhead = new ReadAhead(
      options.prefetch,
      (record) => state.pool.callTime(specOf(record).id),
    );
    this.#values = new NodeValues(link, queue);
    this.#outbox = new NodeOutbox(
      link,
      queue,
      new NodeEvents(nodeId, options.history),
    );
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
    this.#leases = new Leases(link, nodeId, this.#held, (h) => {
      h.stopped = "lost";
      halt(h, "The task's lease was lost");
    });
  }

  /** Creates the group (if needed) and starts reading. */
  async start(engine: Engine): Promise<void> {
    await this.#intake.open(engine);
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
      const streams = new Map<string, Set<string>>();
      for (const { stream, entryId } of left) {
        streams.set(stream, (streams.get(stream) ?? new Set()).add(entryId));
      }
      await Promise.all(
        [...streams].map(([stream, ids]) =>
          engine.release(stream, GROUP, nodeId, [...ids]).catch(() => {})
        ),
      );
      return;
    }
    await Promise.all(
      this.#intake.streams.map((stream) =>
        engine.removeConsumer(stream, GROUP, nodeId).catch(() => {})
      ),
    );
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
      labels: this.#options.labels,
      busy: Math.min(this.#running, maxWorkers),
      completed: this.#completed,
      failed: this.#failed,
    };
  }

  // How many more tasks it takes: its free workers, plus the read-ahead
  // (`eager`: for a read that does not wait).
  #room(eager = false): number {
    const { maxWorkers } = this.#state.pool;
    const ahead = this.#readAhead.ahead(this.#running, maxWorkers, eager);
    return Math.max(0, maxWorkers + ahead - this.#running);
  }

  // Whether to read now: always while a worker is free; with read-ahead,
  // only once half of it is used up, so a busy node reads in batches
  // rather than one task per finished task.
  #reads(room: number): boolean {
    if (room === 0) return false;
    const { maxWorkers } = this.#state.pool;
    if (this.#running < maxWorkers) return true;
    return room >=
      Math.ceil(this.#readAhead.ahead(this.#running, maxWorkers) / 2);
  }

  async #readTasks(engine: Engine): Promise<void> {
    while (!this.#closing && !this.#link.closed) {
      const eager = this.#readAhead.eager(this.#running);
      const room = this.#room(eager);
      if (!this.#reads(room)) {
        this.#freed = Promise.withResolvers<void>();
        await this.#freed.promise;
        continue;
      }
      try {
        const free = Math.max(0, this.#state.pool.maxWorkers - this.#running);
        const taken = await this.#intake.take(engine, room, !eager);
        this.#readAhead.read(room, free, taken.length);
        this.#take(taken);
      } catch (error) {
        if (this.#link.closed) return;
        // A group Redis lost (it restarted empty) is made again.
        if (isReply(error, "NOGROUP")) {
          await this.#intake.open(engine).catch(() => {});
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
        this.#outbox.ack(
          { entryId: delivery.id, stream: delivery.stream },
          () => {},
        );
        continue;
      }
      const key = taskKey(record.executorId, record.taskId);
      if (this.#held.has(key)) continue; // ours already
      const held: Held = {
        key,
        entryId: delivery.id,
        stream: delivery.stream,
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
    held.quick = this.#readAhead.taken(record);
    this.#outbox.started(held, nodeId);
    // Its arguments kept in Redis are read first (once per node).
    const reading = this.#values.resolve(record);
    if (reading === undefined) return this.#hand(held);
    reading.then(() => {
      if (held.stopped === undefined) return this.#hand(held);
      this.#ended(held);
      if (held.stopped === "lost") return this.#release(held);
      held.state = "replying";
      this.#outbox.ack(held, () => this.#release(held));
    }, (error) => {
      this.#ended(held);
      this.#answer(held, { ok: false, error });
    });
  }

  // A task handed over (or about to be) has left the pool: room for more.
  #ended(held: Held): void {
    this.#running--;
    this.#readAhead.done(held.quick!);
    this.#freed?.resolve();
  }

  // Hands a held task, its arguments in place, to the pool.
  #hand(held: Held): void {
    const { nodeId } = this.#options;
    const local = runOnPool(this.#state, held, this.#options);
    held.local = local;
    held.startedAt = performance.now();
    local.addProgressCallback((value) => {
      if (held.stopped !== undefined) return;
      this.#outbox.progress(held, nodeId, value);
    });
    local.addDoneCallback(() => this.#finished(held, local));
  }

  async #finished(held: Held, local: Future<unknown>): Promise<void> {
    held.controller = undefined;
    this.#ended(held);
    if (held.stopped === "lost") return this.#release(held);
    if (held.stopped === "stop") {
      held.state = "replying";
      return this.#outbox.ack(held, () => this.#release(held));
    }
    try {
      this.#answer(held, { ok: true, value: await local.result() });
    } catch (error) {
      this.#answer(held, { ok: false, error });
    }
  }

  #answer(held: Held, outcome: Outcome): void {
    held.state = "replying";
    const { taskId, chunk } = held.record;
    const nodeId = this.#options.nodeId;
    const reply = toResultReply(taskId, nodeId, chunk, outcome, held.nodeLimit);
    if (held.startedAt !== undefined) {
      reply.ms = performance.now() - held.startedAt;
    }
    // A large value is stored under a key of its own first.
    const storing = this.#values.store(held.record, reply);
    if (storing === undefined) return this.#send(held, reply);
    storing.then((stored) => {
      if (!(stored instanceof Error)) return this.#send(held, stored);
      const failed = toResultReply(taskId, nodeId, chunk, {
        ok: false,
        error: stored,
      });
      failed.ms = reply.ms;
      this.#send(held, failed);
    });
  }

  #send(held: Held, reply: ResultReply): void {
    if (reply.ok) this.#completed++;
    else this.#failed++;
    this.#outbox.result(held, reply, () => this.#release(held));
  }

  #release(held: Held): void {
    this.#held.delete(held.key);
    if (this.#held.size === 0) this.#emptied?.resolve();
  }
}
