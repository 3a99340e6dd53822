// The node side: its control stream, where executors ask it to stop a task
// (their futures were cancelled or aborted). The node makes it — an empty
// stream with a marker group, so executors never make it (they add with
// NOMKSTREAM) — renews its time-to-live with its announcements (presence.ts),
// and deletes it when it leaves.
import type { Engine } from "../_engine/engine.ts";
import type { Link } from "../_engine/link.ts";
import { decode } from "../_wire/codec.ts";
import type { StopRecord } from "../_wire/records.ts";
import { controlStream, FIELD, MARK_GROUP, taskKey } from "../_wire/streams.ts";
import { OWN_TTL_MS } from "./presence.ts";

// A blocking read waits this long before the loop looks around (closing).
const READ_BLOCK_MS = 1_000;

/** One node's control stream. */
export class ControlStream {
  /** The stream's key. */
  readonly name: string;
  readonly #link: Link;
  readonly #stop: (key: string) => void;

  /** @param stop called with the key of each task an executor stops. */
  constructor(
    link: Link,
    queue: string,
    nodeId: string,
    stop: (key: string) => void,
  ) {
    this.#link = link;
    this.name = controlStream(queue, nodeId);
    this.#stop = stop;
  }

  /** Makes it (again, after a Redis that came back empty). */
  async open(engine: Engine): Promise<void> {
    await engine.createGroup(this.name, MARK_GROUP);
    await engine.expire([this.name], OWN_TTL_MS);
  }

  /**
   * Reads stops until the link closes, or `closing()` while Redis is away
   * (then no stop can come); `closed` ends a wait for Redis.
   */
  async read(
    engine: Engine,
    closing: () => boolean,
    closed: Promise<void>,
  ): Promise<void> {
    let lastId = "0";
    while (!this.#link.closed && !(closing() && !engine.up)) {
      let read;
      try {
        read = await engine.readReplies(this.name, lastId, READ_BLOCK_MS);
      } catch (error) {
        if (this.#link.closed) return;
        await Promise.race([this.#link.afterError(error), closed]);
        continue;
      }
      lastId = read.lastId;
      if (read.entries.length === 0) continue;
      engine.remove(this.name, read.entries.map((e) => e.id)).catch(() => {});
      for (const entry of read.entries) {
        try {
          const stop = decode<StopRecord>(entry.fields[FIELD.CONTROL]);
          this.#stop(taskKey(stop.executorId, stop.taskId));
        } catch { /* not a stop */ }
      }
    }
  }

  /** Deletes it. */
  async drop(engine: Engine): Promise<void> {
    await engine.drop([this.name]).catch(() => {});
  }
}
