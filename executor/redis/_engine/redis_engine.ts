// Inside the engine: the stream commands of the `Engine` contract, sent on
// one `Connection` (commands, scripts, blocking reads), their replies read
// by one parser (replies.ts).
import type {
  Alive,
  Claimed,
  ClaimExpiredOptions,
  Delivery,
  Engine,
  Fields,
  Replies,
} from "./engine.ts";
import { isReply } from "./engine.ts";
import type { Arg, Connection } from "./connection.ts";
import type { Script, Scripts } from "./scripts.ts";
import {
  bytes,
  fieldArgs,
  MAX_VALUE_BYTES,
  streamEntries,
  streamsEntries,
  text,
  texts,
  toEntry,
  validateBlock,
  validateCount,
} from "./replies.ts";

// addMany writes this many entries or more with a script (scripts.ts): below,
// the script's own cost is more than the commands it saves.
const SCRIPT_ADDS = 4;
// Entries a script call adds: Redis runs nothing else meanwhile (~2 µs an
// entry).
const SCRIPT_CHUNK = 500;

/** The `Engine` on Redis, through node-redis. */
export class RedisEngine implements Engine {
  readonly #connection: Connection;
  readonly #scripts: Scripts;
  // claimExpired's scan cursor per stream and group; "-" starts over.
  readonly #cursors = new Map<string, string>();

  constructor(connection: Connection, scripts: Scripts) {
    this.#connection = connection;
    this.#scripts = scripts;
  }

  get up(): boolean {
    return this.#connection.up;
  }

  async createGroup(stream: string, group: string): Promise<boolean> {
    try {
      await this.#connection.send([
        "XGROUP",
        "CREATE",
        stream,
        group,
        "0",
        "MKSTREAM",
      ]);
      return true;
    } catch (error) {
      if (isReply(error, "BUSYGROUP")) return false;
      throw error;
    }
  }

  async add(
    stream: string,
    fields: Fields,
    options: { maxLen?: number; noCreate?: boolean } = {},
  ): Promise<string> {
    const id = await this.#connection.send(
      addArgs(stream, fields, options.maxLen, options.noCreate),
    );
    return id === null || id === undefined ? "" : text(id);
  }

  async addMany(
    stream: string,
    records: readonly Fields[],
    options: { maxLen?: number } = {},
  ): Promise<string[]> {
    const args = records.length < SCRIPT_ADDS || options.maxLen !== undefined
      ? undefined
      : records.map(fieldArgs);
    const size = args?.[0].length;
    if (args === undefined || args.some((entry) => entry.length !== size)) {
      // Issued in one macrotask, so node-redis writes them in one go.
      const ids = await Promise.all(
        records.map((fields) =>
          this.#connection.send(addArgs(stream, fields, options.maxLen))
        ),
      );
      return ids.map(text);
    }
    // Many entries of one shape: a script a chunk, one command each.
    const chunks: Promise<string[]>[] = [];
    for (let at = 0; at < args.length; at += SCRIPT_CHUNK) {
      chunks.push(
        this.#connection.eval(
          this.#scripts.addMany,
          [stream],
          [String(size), ...args.slice(at, at + SCRIPT_CHUNK).flat()],
        ).then(texts),
      );
    }
    return (await Promise.all(chunks)).flat();
  }

  async read(
    stream: string | readonly string[],
    group: string,
    consumer: string,
    count: number,
    blockMs: number,
  ): Promise<Delivery[]> {
    validateCount("read a stream", count);
    validateBlock("read a stream", "blockMs", blockMs);
    const streams = typeof stream === "string" ? [stream] : stream;
    const head = ["XREADGROUP", "GROUP", group, consumer, "COUNT", `${count}`];
    const reply = await this.#readMaybeBlocking(
      head,
      ["STREAMS", ...streams, ...streams.map(() => ">")],
      blockMs,
    );
    const deliveries: Delivery[] = [];
    for (const [key, entries] of streamsEntries(reply)) {
      for (const raw of entries) {
        deliveries.push({ ...toEntry(raw), deliveries: 1, stream: key });
      }
    }
    return deliveries;
  }

  async readReplies(
    stream: string,
    lastId: string,
    blockMs: number,
    count = 1000,
  ): Promise<Replies> {
    validateCount("read replies", count);
    validateBlock("read replies", "blockMs", blockMs);
    const reply = await this.#readMaybeBlocking(
      ["XREAD", "COUNT", String(count)],
      ["STREAMS", stream, lastId],
      blockMs,
    );
    const entries = streamEntries(reply).map(toEntry);
    return { entries, lastId: entries.at(-1)?.id ?? lastId };
  }

  // A read that returns at once, or blocks on a connection of its own.
  #readMaybeBlocking(
    head: string[],
    tail: string[],
    blockMs: number,
  ): Promise<unknown> {
    if (blockMs === 0) return this.#connection.send([...head, ...tail]);
    return this.#connection.blocking(
      [...head, "BLOCK", String(Math.ceil(blockMs)), ...tail],
      blockMs,
    );
  }

  async ack(
    stream: string,
    group: string,
    ids: readonly string[],
    options: { remove?: boolean } = {},
  ): Promise<number> {
    if (ids.length === 0) return 0;
    const acked = this.#connection.send(["XACK", stream, group, ...ids]);
    if (options.remove) {
      const [count] = await Promise.all([
        acked,
        this.#connection.send(["XDEL", stream, ...ids]),
      ]);
      return Number(count);
    }
    return Number(await acked);
  }

  async claimExpired(
    stream: string,
    group: string,
    consumer: string,
    options: ClaimExpiredOptions,
  ): Promise<Claimed> {
    const { leaseField, minIdleMs, count } = options;
    const scan = Math.max(options.scan ?? 100, count);
    validateCount("claim expired entries", count);
    validateCount("scan pending entries", scan);
    validateBlock("claim expired entries", "minIdleMs", minIdleMs);
    const key = `${stream}\n${group}`;
    const cursor = this.#cursors.get(key) ?? "-";
    const reply = await this.#connection.eval(this.#scripts.expired, [stream], [
      group,
      consumer,
      String(Math.floor(minIdleMs)),
      cursor,
      String(scan),
      leaseField,
      String(count),
    ]) as [unknown, unknown[], number[], unknown[]];
    const [next, raw, counts, deleted] = reply;
    this.#cursors.set(key, text(next));
    return {
      entries: raw.map((entry, i) => ({
        ...toEntry(entry),
        deliveries: Number(counts[i]),
        stream,
      })),
      deleted: texts(deleted),
    };
  }

  extend(
    stream: string,
    group: string,
    consumer: string,
    ids: readonly string[],
  ): Promise<string[]> {
    return this.#onIds(this.#scripts.extend, stream, group, consumer, ids);
  }

  release(
    stream: string,
    group: string,
    consumer: string,
    ids: readonly string[],
  ): Promise<string[]> {
    return this.#onIds(this.#scripts.release, stream, group, consumer, ids);
  }

  // Runs a script over entries `consumer` holds; it answers with the ids it
  // acted on.
  async #onIds(
    script: Script,
    stream: string,
    group: string,
    consumer: string,
    ids: readonly string[],
  ): Promise<string[]> {
    if (ids.length === 0) return [];
    return texts(
      await this.#connection.eval(script, [stream], [group, consumer, ...ids]),
    );
  }

  async remove(stream: string, ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    return Number(await this.#connection.send(["XDEL", stream, ...ids]));
  }

  async drop(keys: readonly string[]): Promise<number> {
    if (keys.length === 0) return 0;
    return Number(await this.#connection.send(["DEL", ...keys]));
  }

  async removeConsumer(
    stream: string,
    group: string,
    consumer: string,
  ): Promise<number> {
    return Number(
      await this.#connection.send([
        "XGROUP",
        "DELCONSUMER",
        stream,
        group,
        consumer,
      ]),
    );
  }

  async sweepConsumers(
    stream: string,
    group: string,
    idleMs: number,
  ): Promise<number> {
    return Number(
      await this.#connection.eval(this.#scripts.sweep, [stream], [
        group,
        String(idleMs),
      ]),
    );
  }

  async announce(
    key: string,
    dataKey: string,
    member: string,
    data: string,
    options: { ttlMs: number; keyTtlMs: number },
  ): Promise<void> {
    await this.#connection.eval(this.#scripts.announce, [key, dataKey], [
      member,
      String(Math.ceil(options.ttlMs)),
      String(Math.ceil(options.keyTtlMs)),
      data,
    ]);
  }

  async alive(key: string, dataKey: string): Promise<Alive[]> {
    const [members, data] = await this.#connection.eval(
      this.#scripts.alive,
      [key, dataKey],
      [],
    ) as [unknown[], unknown[]];
    return members.map((member, i) => ({
      member: text(member),
      data: data[i] === null ? "" : text(data[i]),
    }));
  }

  async retire(key: string, dataKey: string, member: string): Promise<void> {
    await Promise.all([
      this.#connection.send(["ZREM", key, member]),
      this.#connection.send(["HDEL", dataKey, member]),
    ]);
  }

  async expire(keys: readonly string[], ttlMs: number): Promise<void> {
    const ms = String(Math.ceil(ttlMs));
    await Promise.all(
      keys.map((key) => this.#connection.send(["PEXPIRE", key, ms])),
    );
  }

  async setValue(key: string, value: Uint8Array, ttlMs: number): Promise<void> {
    await this.#connection.send(
      ["SET", key, bytes(value), "PX", String(Math.ceil(ttlMs))],
      this.#bulkTimeout(value.byteLength),
    );
  }

  async getValues(
    keys: readonly string[],
    ttlMs: number,
  ): Promise<(Uint8Array | null)[]> {
    const ms = String(Math.ceil(ttlMs));
    // The size is not known before the reply: as long as the largest value.
    const timeout = this.#bulkTimeout(MAX_VALUE_BYTES);
    const values = await Promise.all(
      keys.map((key) =>
        this.#connection.send(["GETEX", key, "PX", ms], timeout)
      ),
    );
    return values.map((value) =>
      value === null || value === undefined ? null : value as Uint8Array
    );
  }

  async lengths(keys: readonly string[]): Promise<number[]> {
    const counts = await Promise.all(
      keys.map((key) => this.#connection.send(["XLEN", key])),
    );
    return counts.map(Number);
  }

  async addMembers(key: string, members: readonly string[]): Promise<void> {
    if (members.length === 0) return;
    await this.#connection.send(["SADD", key, ...members]);
  }

  async members(key: string): Promise<string[]> {
    return texts(await this.#connection.send(["SMEMBERS", key]));
  }

  // A command carrying `size` bytes: the command timeout, plus the bytes'
  // time at 10 MB/s.
  #bulkTimeout(size: number): number {
    return this.#connection.commandTimeout + size / 10_000;
  }

  onDown(listener: (cause: Error) => void): () => void {
    return this.#connection.onDown(listener);
  }

  onUp(listener: () => void): () => void {
    return this.#connection.onUp(listener);
  }

  close(): Promise<void> {
    return this.#connection.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function addArgs(
  stream: string,
  fields: Fields,
  maxLen?: number,
  noCreate?: boolean,
): Arg[] {
  const trim = maxLen === undefined ? [] : ["MAXLEN", "~", String(maxLen)];
  const create = noCreate ? ["NOMKSTREAM"] : [];
  return ["XADD", stream, ...create, ...trim, "*", ...fieldArgs(fields)];
}
