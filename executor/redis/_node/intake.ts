// The node side: which task streams a node reads, and how. A node without
// labels reads the queue's own stream, as it always did: one blocking read
// for as many tasks as it has room for. A node with labels also reads the
// stream of every label set it has all the labels of (SPEC "Labels"), and
// those first: the work only it can run goes before the work any node can.
//
//   labelled streams, most labels first ── XREADGROUP, no wait, each in turn
//   then the queue's stream             ── XREADGROUP, no wait
//   nothing anywhere                    ── XREADGROUP BLOCK on all, COUNT 1
//
// (The blocking read over several streams takes one entry: a wake-up that
// finds entries in two streams at once takes one of each, at most one more
// per stream than the node has room for, and runs it when a worker frees.)
import type { Delivery, Engine } from "../_engine/engine.ts";
import {
  FIELD,
  GROUP,
  labelSetsKey,
  labelsOf,
  taskStream,
} from "../_wire/streams.ts";

// A blocking read waits this long before the loop looks around (claims,
// label sets, closing): close() may wait this long for a read in flight.
const READ_BLOCK_MS = 1_000;
// How often a node with free workers looks for tasks of dead nodes.
const CLAIM_EVERY_MS = 1_000;
// Pending entries idle less than this are never examined for a claim.
const CLAIM_FLOOR_MS = 10;
// How often a node removes the group's consumers of nodes that died without
// leaving, and how long such a consumer must have been silent.
const SWEEP_EVERY_MS = 60_000;
const SWEEP_IDLE_MS = 60_000;
// How often a node with labels reads which label sets the queue has.
const LABEL_SETS_EVERY_MS = 1_000;

/** The task streams one node reads. */
export class Intake {
  readonly #queue: string;
  readonly #nodeId: string;
  readonly #labels: readonly string[];
  /** The queue's own stream. */
  readonly #main: string;
  // The label sets' streams it serves, most labels first.
  #labelled: string[] = [];
  #lastClaim = -Infinity;
  #lastSweep = -Infinity;
  #lastLabelSets = -Infinity;

  /** @param labels the node's labels, sorted. */
  constructor(queue: string, nodeId: string, labels: readonly string[]) {
    this.#queue = queue;
    this.#nodeId = nodeId;
    this.#labels = labels;
    this.#main = taskStream(queue);
  }

  /** Every stream it reads: the label sets' first, the queue's last. */
  get streams(): string[] {
    return [...this.#labelled, this.#main];
  }

  /** Makes the group on each stream it reads (again, after Redis lost it). */
  async open(engine: Engine): Promise<void> {
    await Promise.all(
      this.streams.map((stream) => engine.createGroup(stream, GROUP)),
    );
    await this.#readLabelSets(engine);
  }

  /**
   * Takes up to about `room` tasks: claimed from dead nodes (once a
   * second), else new ones, labelled first; waits up to a second when
   * there are none, unless `wait` is false.
   */
  async take(engine: Engine, room: number, wait = true): Promise<Delivery[]> {
    const now = performance.now();
    if (now - this.#lastLabelSets >= LABEL_SETS_EVERY_MS) {
      await this.#readLabelSets(engine);
    }
    if (now - this.#lastClaim >= CLAIM_EVERY_MS) {
      this.#lastClaim = now;
      const claimed = await this.#claim(engine, room);
      if (claimed.length > 0) return claimed;
    }
    if (now - this.#lastSweep >= SWEEP_EVERY_MS) {
      this.#lastSweep = now;
      for (const stream of this.streams) {
        await engine.sweepConsumers(stream, GROUP, SWEEP_IDLE_MS);
      }
    }
    const blockMs = wait ? Math.min(READ_BLOCK_MS, CLAIM_EVERY_MS) : 0;
    const nodeId = this.#nodeId;
    if (this.#labelled.length === 0) {
      return await engine.read(this.#main, GROUP, nodeId, room, blockMs);
    }
    for (const stream of this.streams) {
      const taken = await engine.read(stream, GROUP, nodeId, room, 0);
      if (taken.length > 0) return taken;
    }
    if (!wait) return [];
    return await engine.read(this.streams, GROUP, nodeId, 1, blockMs);
  }

  // Entries of dead nodes whose lease ran out, from each stream in turn.
  async #claim(engine: Engine, room: number): Promise<Delivery[]> {
    const claimed: Delivery[] = [];
    for (const stream of this.streams) {
      const left = room - claimed.length;
      if (left <= 0) break;
      const { entries } = await engine.claimExpired(
        stream,
        GROUP,
        this.#nodeId,
        { leaseField: FIELD.LEASE, minIdleMs: CLAIM_FLOOR_MS, count: left },
      );
      claimed.push(...entries);
    }
    return claimed;
  }

  // The label sets the queue's tasks have used whose every label this node
  // has: their streams, with the group made on the new ones.
  async #readLabelSets(engine: Engine): Promise<void> {
    this.#lastLabelSets = performance.now();
    if (this.#labels.length === 0) return;
    const sets = (await engine.members(labelSetsKey(this.#queue)))
      .map(labelsOf)
      .filter((set) =>
        set.length > 0 && set.every((label) => this.#labels.includes(label))
      )
      .sort((a, b) => b.length - a.length || a.join().localeCompare(b.join()));
    const streams = sets.map((set) => taskStream(this.#queue, set));
    const known = new Set(this.#labelled);
    for (const stream of streams) {
      if (!known.has(stream)) await engine.createGroup(stream, GROUP);
    }
    this.#labelled = streams;
  }
}
