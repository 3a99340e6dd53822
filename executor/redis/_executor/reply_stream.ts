// The executor side: its reply stream (`<queue>:replies:<id>`), where nodes
// answer it. Made with each connection (with a marker group, so that a Redis
// that lost its data tells), kept alive by a time-to-live renewed while
// connected, read until the connection closes, deleted by its owner.
import type { Engine } from "../_engine/engine.ts";
import type { Link } from "../_engine/link.ts";
import { decode } from "../_wire/codec.ts";
import type { Reply } from "../_wire/records.ts";
import { FIELD, MARK_GROUP, replyStream } from "../_wire/streams.ts";

// A reply read blocks this long before the loop reads again; shorter only
// costs idle round trips (a reply wakes it at once).
const READ_BLOCK_MS = 2_000;
// Replies taken per read: a burst of results is read in few round trips.
const READ_COUNT = 1_000;
// The stream expires this long after the executor last renewed it (every
// third of it while connected), so a program killed without shutdown leaves
// nothing for good; and never sooner than three connectTimeouts, so that it
// outlives any outage the executor survives.
const REPLY_TTL_MS = 60_000;

/** One executor's reply stream. */
export class ReplyStream {
  /** The stream's key. */
  readonly name: string;
  readonly #ttl: number;
  readonly #onReplies: (replies: Reply[]) => void;
  readonly #track: (promise: Promise<unknown>) => void;
  // Each link's reader, until it ends.
  readonly #readers = new Map<Link, Promise<void>>();

  /**
   * @param onReplies gets the replies of each entry read, in order.
   * @param track keeps a write in flight, for the owner's close to await.
   */
  constructor(
    queue: string,
    executorId: string,
    connectTimeout: number,
    onReplies: (replies: Reply[]) => void,
    track: (promise: Promise<unknown>) => void,
  ) {
    this.name = replyStream(queue, executorId);
    this.#ttl = Math.max(REPLY_TTL_MS, 3 * connectTimeout);
    this.#onReplies = onReplies;
    this.#track = track;
  }

  /** Makes it on a new connection, and reads it until the link closes. */
  async open(link: Link, engine: Engine): Promise<void> {
    await engine.createGroup(this.name, MARK_GROUP);
    await engine.expire([this.name], this.#ttl);
    this.#readers.set(link, this.#read(link, engine));
    this.#renew(link, engine);
  }

  /**
   * Makes it again after an outage.
   *
   * @returns true if it was gone: Redis came back without its data.
   */
  async reopen(engine: Engine): Promise<boolean> {
    const gone = await engine.createGroup(this.name, MARK_GROUP);
    if (gone) await engine.expire([this.name], this.#ttl);
    return gone;
  }

  /** Deletes it, if Redis is there to ask. */
  async drop(link: Link): Promise<void> {
    const engine = link.engine;
    if (engine?.up) await engine.drop([this.name]).catch(() => {});
  }

  /** Resolves once the reader of a closed `link` has ended. */
  async ended(link: Link): Promise<void> {
    await this.#readers.get(link);
    this.#readers.delete(link);
  }

  // Keeps it alive while this link is.
  #renew(link: Link, engine: Engine): void {
    link.lifetime.timer(this.#ttl / 3, () => {
      engine.expire([this.name], this.#ttl).catch(() => {})
        .finally(() => this.#renew(link, engine));
    });
  }

  async #read(link: Link, engine: Engine): Promise<void> {
    let lastId = "0";
    while (!link.closed) {
      let read;
      try {
        read = await engine.readReplies(
          this.name,
          lastId,
          READ_BLOCK_MS,
          READ_COUNT,
        );
      } catch (error) {
        if (link.closed) return;
        await link.afterError(error);
        continue;
      }
      lastId = read.lastId;
      if (read.entries.length === 0) continue;
      // Read once, so the stream stays small.
      this.#track(engine.remove(this.name, read.entries.map((e) => e.id)));
      for (const entry of read.entries) {
        let replies: Reply[];
        try {
          replies = decode<Reply[]>(entry.fields[FIELD.REPLIES]);
        } catch {
          continue; // not a node's: nothing to settle
        }
        this.#onReplies(replies);
      }
    }
  }
}
