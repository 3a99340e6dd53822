// The executor side: what it writes to Redis — its tasks (one entry per
// task, all of a turn in one write: a script for many, Engine.addMany), the
// removal of entries that must not run, stops to nodes — and what an outage
// does to them: a send that failed is held until Redis is back, a task Redis
// may have lost fails.
import { BrokenExecutorError } from "../../../future/errors.ts";
import { type Engine, EngineError } from "../_engine/engine.ts";
import type { Link } from "../_engine/link.ts";
import { encode } from "../_wire/codec.ts";
import type { StopRecord } from "../_wire/records.ts";
import {
  controlStream,
  FIELD,
  labelSetsKey,
  SHARED_TTL_MS,
} from "../_wire/streams.ts";
import type { RemoteTask } from "./remote_task.ts";
import type { StoredValues, ValueWrite } from "./stored_values.ts";

// A node's control stream is kept to about this many stops: a dead node's
// stream is never read, so it must not grow.
const CONTROL_MAXLEN = 1_000;

/** What the sender reaches of its executor. */
export interface SenderContext {
  /** The current link (a new one after each idle spell). */
  link(): Link;
  /** The tasks whose futures are not done. */
  tasks(): Iterable<RemoteTask>;
  /** Keeps a write in flight, for close to await. */
  track(promise: Promise<unknown>): void;
  /** The values the executor keeps in Redis. */
  values: StoredValues;
}

/** One executor's writes. */
export class Sender {
  readonly #queue: string;
  readonly #executorId: string;
  readonly #connectTimeout: number;
  readonly #context: SenderContext;
  // Submitted this turn, sent together at the end of it.
  #unsent: RemoteTask[] = [];
  #flushScheduled = false;
  // Sends that failed: they go again once Redis is back.
  #held: RemoteTask[] = [];
  // Entries of tasks failed by an outage, by stream: removed once Redis is
  // back, so they do not run after their futures failed.
  #abandoned = new Map<string, string[]>();
  // The label sets added to the queue's set, on the link they were added
  // on (a new link, or Redis back empty, adds them again).
  #labelSets = new Set<string>();
  #labelSetsOn: Link | undefined;

  constructor(
    queue: string,
    executorId: string,
    connectTimeout: number,
    context: SenderContext,
  ) {
    this.#queue = queue;
    this.#executorId = executorId;
    this.#connectTimeout = connectTimeout;
    this.#context = context;
  }

  /** Queues tasks for the one write at the end of this turn. */
  send(tasks: RemoteTask[]): void {
    this.#unsent.push(...tasks);
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueMicrotask(() => this.#flush());
  }

  /** Removes entries from a task stream: their tasks must not run. */
  remove(stream: string, ids: string[]): void {
    const engine = this.#context.link().engine;
    if (engine === undefined) return;
    this.#context.track(
      engine.remove(stream, ids).catch(() => this.#abandon(stream, ids)),
    );
  }

  #abandon(stream: string, ids: string[]): void {
    const list = this.#abandoned.get(stream);
    if (list === undefined) this.#abandoned.set(stream, [...ids]);
    else list.push(...ids);
  }

  /** Tells a node to stop a task it runs. */
  stop(nodeId: string, taskId: number): void {
    const engine = this.#context.link().engine;
    if (engine === undefined) return;
    const stop: StopRecord = {
      kind: "stop",
      executorId: this.#executorId,
      taskId,
    };
    this.#context.track(
      // noCreate: a node that left has no control stream to fill.
      engine.add(
        controlStream(this.#queue, nodeId),
        { [FIELD.CONTROL]: encode(stop) },
        { maxLen: CONTROL_MAXLEN, noCreate: true },
      ),
    );
  }

  /**
   * Redis has been unreachable for connectTimeout: every task it holds
   * fails now (tasks not sent yet fail on their own timers).
   */
  lost(cause: Error): void {
    const error = new BrokenExecutorError(
      `${cause.message}: the task's outcome is unknown`,
      { cause },
    );
    for (const task of [...this.#context.tasks()]) {
      if (task.entryIds.length === 0) continue;
      this.#abandon(task.stream, task.entryIds);
      task.fail(error);
    }
  }

  /**
   * Redis is back: drops what was abandoned; fails, if Redis came back
   * `empty`, what it held from before the link's `generation` (when it came
   * back); sends what was held.
   */
  back(link: Link, generation: number, empty: boolean): void {
    const abandoned = [...this.#abandoned];
    this.#abandoned.clear();
    for (const [stream, ids] of abandoned) this.remove(stream, ids);
    if (empty) {
      this.#labelSets.clear();
      this.#context.values.lost();
      const error = new BrokenExecutorError(
        `Redis at ${link.where} came back without its data (restarted without persistence?): the task was lost`,
      );
      for (const task of [...this.#context.tasks()]) {
        if (task.entryIds.length > 0 && task.generation < generation) {
          task.fail(error);
        }
      }
    }
    this.send(this.#held.splice(0));
  }

  async #flush(): Promise<void> {
    this.#flushScheduled = false;
    const batch = this.#unsent.filter((task) => !task.future.done());
    this.#unsent = [];
    if (batch.length === 0) return;
    const link = this.#context.link();
    let engine: Engine;
    try {
      engine = await link.connect();
    } catch (error) {
      const why = new BrokenExecutorError(
        `Cannot reach Redis at ${link.where} within ${this.#connectTimeout} ms: the task was not sent`,
        { cause: error },
      );
      for (const task of batch) task.fail(why);
      return;
    }
    try {
      await this.#write(link, engine, batch);
    } catch (error) {
      return this.#hold(link, batch, error);
    }
  }

  // The batch's entries, one pipelined write: the label sets and values
  // they need first, then the entries (Engine.addMany, by stream).
  async #write(
    link: Link,
    engine: Engine,
    batch: RemoteTask[],
  ): Promise<void> {
    const values = this.#context.values;
    values.sweep(engine);
    if (this.#labelSetsOn !== link) {
      this.#labelSets.clear();
      this.#labelSetsOn = link;
    }
    const writes = new Set<ValueWrite["stored"]>();
    const pending: Promise<unknown>[] = [];
    const streams = new Map<string, RemoteTask[]>();
    for (const task of batch) {
      for (const { stored, bytes } of task.writes) {
        if (writes.has(stored)) continue;
        writes.add(stored);
        pending.push(
          engine.setValue(stored.key, bytes, values.limits.valueTtl),
        );
      }
      const set = task.labels.join(",");
      if (set !== "" && !this.#labelSets.has(set)) {
        this.#labelSets.add(set);
        const key = labelSetsKey(this.#queue);
        pending.push(
          engine.addMembers(key, [set]).catch((error) => {
            this.#labelSets.delete(set);
            throw error;
          }),
          // Renewed by the nodes that serve the queue; gone a while after.
          engine.expire([key], SHARED_TTL_MS),
        );
      }
      const tasks = streams.get(task.stream);
      if (tasks === undefined) streams.set(task.stream, [task]);
      else tasks.push(task);
    }
    // Issued in this turn after the writes above: Redis runs them first.
    const adds = [...streams].map(([stream, tasks]) =>
      engine.addMany(stream, tasks.map((t) => t.fields)).then((ids) => {
        tasks.forEach((task, i) => {
          task.entryIds.push(ids[i]);
          task.generation = link.generation;
          // Cancelled while the entry was being written.
          if (task.future.cancelled()) this.remove(task.stream, [ids[i]]);
        });
      })
    );
    const [written] = await Promise.allSettled([
      Promise.all(pending),
      Promise.all(adds),
    ]);
    if (written.status === "rejected") throw written.reason;
    const done = batch.flatMap((task) => task.writes);
    values.written(done);
    for (const task of batch) task.writes = [];
    await Promise.all(adds);
  }

  // A send failed: the tasks go again once Redis is back (a lost reply may
  // mean an entry was written: at-least-once), each failing connectTimeout
  // after it was submitted. An error Redis answered fails them now.
  #hold(link: Link, batch: RemoteTask[], error: unknown): void {
    if (
      error instanceof EngineError &&
      (error.kind === "reply" || error.kind === "closed")
    ) {
      const why = new BrokenExecutorError(
        `Cannot send the task to Redis at ${link.where}: ${error.message}`,
        { cause: error },
      );
      for (const task of batch) task.fail(why);
      return;
    }
    const timeout = this.#connectTimeout;
    for (const task of batch) {
      if (task.future.done()) continue;
      const left = task.submittedAt + timeout - performance.now();
      task.timer ??= link.lifetime.timer(Math.max(0, left), () => {
        task.fail(
          new BrokenExecutorError(
            `Cannot send the task: Redis at ${link.where} was unreachable for ${timeout} ms`,
            { cause: error },
          ),
        );
      });
      this.#held.push(task);
    }
    link.whenUp().then(() => this.send(this.#held.splice(0)));
  }
}
