// The executor side: the queue's live nodes as last read from Redis (each
// node announces itself every second, _runner.ts), for stats() and for the
// rule that a task no live node can take fails after unroutableTimeout.
import type { Engine } from "../_engine/engine.ts";
import type { NodeInfo } from "../_wire/records.ts";
import { nodeDataKey, nodesKey } from "../_wire/streams.ts";

/** A live node, as it last announced itself. */
export interface LiveNode extends NodeInfo {
  /** Its id: its consumer name in the group. */
  id: string;
}

/** What the last read found, and the worker-time seen since. */
export class LiveNodes {
  readonly #queue: string;
  #nodes: LiveNode[] = [];
  #reading = false;
  // Worker-ms of the nodes seen up to #sampledAt, for utilization.
  #workerMs = 0;
  #sampledAt = performance.now();
  /** performance.now() when the last read was started. */
  readAt = -Infinity;

  constructor(queue: string) {
    this.#queue = queue;
  }

  /** The nodes the last read found. */
  get nodes(): readonly LiveNode[] {
    return this.#nodes;
  }

  /** Their workers, summed. */
  get workers(): number {
    let workers = 0;
    for (const node of this.#nodes) workers += node.workers;
    return workers;
  }

  /** Worker-ms of the live nodes from this object's making until `now`. */
  capacity(now: number): number {
    return this.#workerMs + this.workers * (now - this.#sampledAt);
  }

  /** Whether some live node has every one of `labels`. */
  canRun(labels: readonly string[]): boolean {
    return this.#nodes.some((node) =>
      labels.every((label) => node.labels.includes(label))
    );
  }

  /**
   * Reads the live nodes, unless a read is in flight.
   *
   * @returns whether it read (false: one was in flight, or it failed).
   */
  async read(engine: Engine): Promise<boolean> {
    if (this.#reading) return false;
    this.#reading = true;
    this.readAt = performance.now();
    try {
      const alive = await engine.alive(
        nodesKey(this.#queue),
        nodeDataKey(this.#queue),
      );
      const at = performance.now();
      this.#workerMs = this.capacity(at);
      this.#sampledAt = at;
      this.#nodes = alive.map(({ member, data }) => parseNode(member, data));
      return true;
    } catch {
      return false;
    } finally {
      this.#reading = false;
    }
  }
}

// A node's announcement; one that cannot be read counts as a node with no
// workers and no labels (another version's node, say).
function parseNode(id: string, data: string): LiveNode {
  let info: Partial<NodeInfo> = {};
  try {
    info = JSON.parse(data);
  } catch { /* unreadable */ }
  const count = (value: unknown) =>
    Number.isInteger(value) && (value as number) >= 0 ? value as number : 0;
  return {
    id,
    workers: count(info.workers),
    labels: Array.isArray(info.labels)
      ? info.labels.filter((label) => typeof label === "string")
      : [],
    busy: count(info.busy),
    completed: count(info.completed),
    failed: count(info.failed),
  };
}
