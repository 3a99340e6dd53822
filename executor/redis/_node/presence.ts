// The node side: the node tells its queue it is alive, with its workers,
// labels and counts, every ANNOUNCE_EVERY_MS (executors read it for
// stats() and for routing), and renews what it owns and what the queue's
// nodes share (its events, its label sets); a node that stops announcing
// counts as gone after NODE_TTL_MS, by Redis's clock.
import type { Engine } from "../_engine/engine.ts";
import type { Link } from "../_engine/link.ts";
import type { NodeInfo } from "../_wire/records.ts";
import {
  eventStream,
  labelSetsKey,
  nodeDataKey,
  nodesKey,
  SHARED_TTL_MS,
} from "../_wire/streams.ts";

const ANNOUNCE_EVERY_MS = 1_000;
const NODE_TTL_MS = 3_000;
/**
 * What a node made for itself (its control stream) and the queue's set of
 * live nodes expire this long after the last announcement: a node killed
 * without closing leaves nothing for good.
 */
export const OWN_TTL_MS = 60_000;

/** One node's announcements. */
export class Presence {
  readonly #link: Link;
  readonly #queue: string;
  readonly #nodeId: string;
  readonly #info: () => NodeInfo;
  readonly #owned: readonly string[];
  #timer: (() => void) | undefined;
  #announcing: Promise<void> | undefined;
  #stopped = false;

  /**
   * @param info what it says of itself, asked at each announcement.
   * @param owned keys the node owns, renewed with each announcement.
   */
  constructor(
    link: Link,
    queue: string,
    nodeId: string,
    info: () => NodeInfo,
    owned: readonly string[],
  ) {
    this.#link = link;
    this.#queue = queue;
    this.#nodeId = nodeId;
    this.#info = info;
    this.#owned = owned;
  }

  /** Announces now and every ANNOUNCE_EVERY_MS; a failed one is skipped. */
  start(engine: Engine): void {
    this.#announcing = Promise.all([
      engine.announce(
        nodesKey(this.#queue),
        nodeDataKey(this.#queue),
        this.#nodeId,
        JSON.stringify(this.#info()),
        { ttlMs: NODE_TTL_MS, keyTtlMs: OWN_TTL_MS },
      ),
      engine.expire(this.#owned, OWN_TTL_MS),
      engine.expire(
        [eventStream(this.#queue), labelSetsKey(this.#queue)],
        SHARED_TTL_MS,
      ),
    ]).then(() => {}, () => {})
      .finally(() => {
        if (this.#stopped) return;
        this.#timer = this.#link.lifetime.timer(
          ANNOUNCE_EVERY_MS,
          () => this.start(engine),
        );
      });
  }

  /** Announces no more; resolves once none is in flight. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timer?.();
    await this.#announcing;
    this.#timer?.();
  }

  /** Leaves the set of live nodes at once (rather than by its TTL). */
  async leave(engine: Engine): Promise<void> {
    await engine.retire(
      nodesKey(this.#queue),
      nodeDataKey(this.#queue),
      this.#nodeId,
    ).catch(() => {});
  }
}
