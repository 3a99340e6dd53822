// The node side: the lease of every task the node holds, extended every
// third of the shortest one, so that no other node takes a task this one
// still runs; an entry it no longer holds (cancelled, or taken by a node
// that thought this one dead) is let go of.
import { isReply } from "../_engine/engine.ts";
import type { Link } from "../_engine/link.ts";
import { GROUP } from "../_wire/streams.ts";
import type { Held } from "./held.ts";

/** The leases of what one node holds. */
export class Leases {
  readonly #link: Link;
  readonly #nodeId: string;
  readonly #held: ReadonlyMap<string, Held>;
  readonly #lost: (held: Held) => void;
  // Clears the pending extension, while one is armed.
  #timer: (() => void) | undefined;

  /**
   * @param held what the node holds, by task key (its runner's own map).
   * @param lost called for a task whose entry is no longer the node's.
   */
  constructor(
    link: Link,
    nodeId: string,
    held: ReadonlyMap<string, Held>,
    lost: (held: Held) => void,
  ) {
    this.#link = link;
    this.#nodeId = nodeId;
    this.#held = held;
    this.#lost = lost;
  }

  /** Arms the next extension, unless one is armed or nothing is held. */
  schedule(): void {
    if (this.#timer !== undefined || this.#held.size === 0) return;
    let lease = Infinity;
    for (const held of this.#held.values()) {
      lease = Math.min(lease, held.record.lease);
    }
    this.#timer = this.#link.lifetime.timer(lease / 3, () => {
      this.#timer = undefined;
      this.#extend().finally(() => this.schedule());
    });
  }

  /** Extends now: Redis is back, and may have restarted without them. */
  now(): void {
    if (this.#held.size === 0) return;
    this.stop();
    this.#extend().finally(() => this.schedule());
  }

  /** Arms no more extensions until `schedule()`. */
  stop(): void {
    this.#timer?.();
    this.#timer = undefined;
  }

  async #extend(): Promise<void> {
    const engine = this.#link.engine;
    const held = [...this.#held.values()];
    if (engine === undefined || held.length === 0) return;
    // One extension per stream the held entries are in, in one write.
    const streams = new Map<string, string[]>();
    for (const h of held) {
      const ids = streams.get(h.stream);
      if (ids === undefined) streams.set(h.stream, [h.entryId]);
      else ids.push(h.entryId);
    }
    const kept = new Set<string>();
    const extended = await Promise.allSettled(
      [...streams].map(async ([stream, ids]) => {
        for (
          const id of await engine.extend(stream, GROUP, this.#nodeId, ids)
        ) {
          kept.add(`${stream}\n${id}`);
        }
      }),
    );
    for (const [i, [stream]] of [...streams].entries()) {
      const outcome = extended[i];
      if (outcome.status === "fulfilled") continue;
      // No group: Redis restarted empty, and nothing held there is ours.
      // Any other failure: the next round tries again.
      if (!isReply(outcome.reason, "NOGROUP")) {
        for (const h of held) {
          if (h.stream === stream) kept.add(`${stream}\n${h.entryId}`);
        }
      }
    }
    for (const h of held) {
      if (kept.has(`${h.stream}\n${h.entryId}`) || h.state === "replying") {
        continue;
      }
      if (this.#held.has(h.key)) this.#lost(h);
    }
  }
}
