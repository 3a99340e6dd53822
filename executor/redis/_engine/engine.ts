// The Redis side's only view of Redis: streams, consumer groups, and the
// state of the connection. Nothing above `_engine/` sends a raw command, so
// another engine (another client, another broker) is one more folder.
//
// Data flow, one queue (see SPEC "RedisExecutor and RedisNode"):
//
//   submitter                        Redis                          node
//   add/addMany ─── XADD ──────────> task stream ── XREADGROUP ──> read
//                                     group's PEL <── XACK+XDEL ─── ack
//                                        │  <── XCLAIM JUSTID ───── extend
//   remove ──────── XDEL ───────────────>│  <── XCLAIM IDLE ──────── release
//                                        │  <── XPENDING+XCLAIM ─── claimExpired
//   drop ────────── DEL                  │  <── XGROUP DELCONSUMER  removeConsumer
//   readReplies <── XREAD BLOCK ──── reply stream <── XADD ─────── add
//
// This file is the contract (`Engine`, its records, `EngineError`);
// `connect.ts` opens the one implementation, `redis_engine.ts` on
// `connection.ts`.

export interface EngineOptions {
  /**
   * How long, in ms, the first connection may take before `connect` rejects.
   * @default 10_000
   */
  connectTimeout?: number;
  /**
   * How long, in ms, a command may wait for its reply, counted from when it
   * is issued (so it includes a wait for a reconnect). A blocking read gets
   * its block time on top.
   * @default 5_000
   */
  commandTimeout?: number;
  /**
   * The connections' CLIENT SETNAME, shown by CLIENT LIST.
   * @default undefined
   */
  name?: string;
}

/** What an entry carries: field names to bytes (or text, sent as UTF-8). */
export type Fields = Record<string, Uint8Array | string>;

/** A stream entry as read: every value is the exact bytes written. */
export interface Entry {
  /** The entry's stream id, `ms-seq`. */
  id: string;
  /**
   * Field names to values, in the order written. Each value is a Buffer
   * viewing the chunk node-redis read it from (its RESP decoder does not
   * copy): decode it and let it go, or copy one kept for long, so it does
   * not pin the whole chunk.
   */
  fields: Record<string, Uint8Array>;
}

/** An entry handed to one consumer of a group. */
export interface Delivery extends Entry {
  /** How many times the group has delivered it; 1 on the first read. */
  deliveries: number;
  /** The stream it is an entry of. */
  stream: string;
}

/** What `claimExpired` took over. */
export interface Claimed {
  /** Entries now this consumer's, with their delivery counts (≥ 2). */
  entries: Delivery[];
  /**
   * Ids that were pending but whose entries had been deleted (`remove`d
   * after delivery): Redis dropped them from the group, they are never
   * delivered again.
   */
  deleted: string[];
}

/** A member `alive` found, with the data of its last announcement. */
export interface Alive {
  member: string;
  data: string;
}

/** What `readReplies` read. */
export interface Replies {
  /** The entries after `lastId`, oldest first. */
  entries: Entry[];
  /** The id to pass to the next call: the last entry's, or `lastId`. */
  lastId: string;
}

/** Why an engine call failed. */
export type EngineErrorKind =
  /** No reply within the command's timeout. The command may have run. */
  | "timeout"
  /** The connection dropped while the command was in flight. It may have run. */
  | "disconnected"
  /** The engine was closed. */
  | "closed"
  /** Redis answered with an error (a wrong type, a missing group). */
  | "reply";

/**
 * An engine call that failed: `kind` says how, and for an error Redis
 * answered, `code` is its code (`NOGROUP`, `BUSYGROUP`, `NOSCRIPT`, `ERR`,
 * …); `cause` is the client's error. Tell them apart with `instanceof`,
 * `kind` and `code`, never by the message.
 */
export class EngineError extends Error {
  /** How the call failed. */
  readonly kind: EngineErrorKind;
  /** Redis's error code, for kind "reply"; else "". */
  readonly code: string;

  /**
   * @param kind how the call failed.
   * @param message what failed, naming the command and the server.
   * @param options the client's error as `cause`, and Redis's `code`.
   */
  constructor(
    kind: EngineErrorKind,
    message: string,
    options: ErrorOptions & { code?: string } = {},
  ) {
    super(message, options);
    this.name = "EngineError";
    this.kind = kind;
    this.code = options.code ?? "";
  }
}

/** Whether `error` is Redis's answer with this code. */
export function isReply(error: unknown, code?: string): error is EngineError {
  return error instanceof EngineError && error.kind === "reply" &&
    (code === undefined || error.code === code);
}

/** What `claimExpired` looks for. */
export interface ClaimExpiredOptions {
  /** The field of an entry that holds its lease in ms, as decimal text. */
  leaseField: string;
  /** Entries idle less than this are never examined. */
  minIdleMs: number;
  /** At most this many entries are claimed. */
  count: number;
  /** Pending entries examined per call (default 100, at least `count`). */
  scan?: number;
}

/** Streams and consumer groups, behind a connection that may come and go. */
export interface Engine extends AsyncDisposable {
  /** Whether every connection is up and no command has timed out since. */
  readonly up: boolean;
  /**
   * Creates `group` on `stream` (and the stream), reading from its start, so
   * entries added before the group existed are delivered too.
   *
   * @returns true if created, false if the group already existed.
   */
  createGroup(stream: string, group: string): Promise<boolean>;
  /**
   * Appends one entry.
   *
   * @param options.maxLen trims the stream to about this many entries
   * (MAXLEN ~), for streams nobody deletes from, such as replies.
   * @param options.noCreate adds nothing if the stream does not exist
   * (NOMKSTREAM): for a stream its owner made and may have deleted, so a
   * writer never re-creates it without its time-to-live.
   * @returns its id, or "" when `noCreate` found no stream.
   */
  add(
    stream: string,
    fields: Fields,
    options?: { maxLen?: number; noCreate?: boolean },
  ): Promise<string>;
  /**
   * Appends entries in one write (many of the same fields: a script, one
   * command); returns their ids in order.
   */
  addMany(
    stream: string,
    records: readonly Fields[],
    options?: { maxLen?: number },
  ): Promise<string[]>;
  /**
   * Takes up to `count` entries never delivered to `group`, waiting up to
   * `blockMs` for the first (0: return at once). They stay pending for
   * `consumer` until `ack`ed. Given several streams (each with the group),
   * it takes up to `count` from each that has entries, in one call.
   */
  read(
    stream: string | readonly string[],
    group: string,
    consumer: string,
    count: number,
    blockMs: number,
  ): Promise<Delivery[]>;
  /**
   * Acknowledges entries of `consumer`'s; with `remove`, deletes them from
   * the stream in the same write.
   *
   * @returns how many were pending and are acknowledged now.
   */
  ack(
    stream: string,
    group: string,
    ids: readonly string[],
    options?: { remove?: boolean },
  ): Promise<number>;
  /**
   * Takes over up to `count` entries that other consumers have held idle
   * past their own lease: the entry's field `leaseField` (milliseconds, as
   * text), or `minIdleMs` for an entry without it; never one idle less than
   * `minIdleMs`. One atomic step per call, delivery counts included, so
   * entries with different leases share one stream and a consumer need not
   * know them. Examines up to `scan` pending entries (default: 100, at least
   * `count`) from where the last call stopped; an entry deleted after
   * delivery is dropped from the group and listed under `deleted`.
   */
  claimExpired(
    stream: string,
    group: string,
    consumer: string,
    options: ClaimExpiredOptions,
  ): Promise<Claimed>;
  /**
   * Resets the idle time of entries `consumer` still holds, without counting
   * a delivery, so `claimExpired` elsewhere does not take them.
   *
   * @returns the ids it still held and extended; an id missing from it was
   * claimed by another consumer, acknowledged, or deleted.
   */
  extend(
    stream: string,
    group: string,
    consumer: string,
    ids: readonly string[],
  ): Promise<string[]>;
  /**
   * Hands entries `consumer` holds back to the group: any consumer may claim
   * them at once (their idle time is made longer than any lease), and the
   * hand-back does not count as a delivery.
   *
   * @returns the ids it still held and handed back.
   */
  release(
    stream: string,
    group: string,
    consumer: string,
    ids: readonly string[],
  ): Promise<string[]>;
  /**
   * Deletes entries from the stream.
   *
   * An entry not yet delivered is then never delivered. An entry already
   * delivered counts as removed too (XDEL does not look at groups), so 1
   * does not prove it never ran: its consumer has its fields and may be
   * running it. It stays pending (`ack` by its consumer still returns 1)
   * until `extend` or `claimExpired` meets it: both drop it from the group
   * (Redis 7: XCLAIM discards deleted entries), `extend` leaves it out of its
   * answer and `claimExpired` lists it under `deleted`. It is never
   * delivered again.
   *
   * @returns how many of `ids` were in the stream.
   */
  remove(stream: string, ids: readonly string[]): Promise<number>;
  /**
   * Deletes whole keys (streams with their groups).
   *
   * @returns how many of them existed.
   */
  drop(keys: readonly string[]): Promise<number>;
  /**
   * Removes `consumer` from `group`. Its pending entries go with it (Redis
   * forgets they were delivered), so call it once the consumer holds none.
   *
   * @returns how many entries it still held.
   */
  removeConsumer(
    stream: string,
    group: string,
    consumer: string,
  ): Promise<number>;
  /**
   * Marks `member` of the sorted set `key` alive for `ttlMs` more, by
   * Redis's clock (the machines' clocks may differ), with `data` about it
   * in the hash `dataKey`; both expire `keyTtlMs` after the last
   * announcement of any member.
   */
  announce(
    key: string,
    dataKey: string,
    member: string,
    data: string,
    options: { ttlMs: number; keyTtlMs: number },
  ): Promise<void>;
  /**
   * Sets the time-to-live of `keys` (those that exist) to `ttlMs`, in one
   * write: what an owner made for itself, renewed while it lives.
   */
  expire(keys: readonly string[], ttlMs: number): Promise<void>;
  /**
   * Removes the consumers of `group` that hold no entry and have not read
   * for `idleMs`: those of nodes that died without leaving.
   *
   * @returns how many it removed.
   */
  sweepConsumers(
    stream: string,
    group: string,
    idleMs: number,
  ): Promise<number>;
  /**
   * The members of `key` whose ttl has not run out, each with its data in
   * `dataKey`; drops the others from both.
   */
  alive(key: string, dataKey: string): Promise<Alive[]>;
  /** Removes `member` from the sorted set `key` and its data. */
  retire(key: string, dataKey: string, member: string): Promise<void>;
  /**
   * Stores `value` under `key` (a string key), expiring in `ttlMs`.
   * Bounded by the command timeout plus the time the bytes take at 10 MB/s.
   */
  setValue(key: string, value: Uint8Array, ttlMs: number): Promise<void>;
  /**
   * Reads the values of `keys`, renewing each one's time-to-live to `ttlMs`
   * (GETEX), in one write.
   *
   * @returns each key's bytes, or null for a key that does not exist.
   */
  getValues(
    keys: readonly string[],
    ttlMs: number,
  ): Promise<(Uint8Array | null)[]>;
  /** How many entries each stream of `keys` has (0: none), in one write. */
  lengths(keys: readonly string[]): Promise<number[]>;
  /** Adds `members` to the set `key`. */
  addMembers(key: string, members: readonly string[]): Promise<void>;
  /** The members of the set `key`; none if it does not exist. */
  members(key: string): Promise<string[]>;
  /** Reads entries after `lastId` (no group), waiting up to `blockMs`. */
  readReplies(
    stream: string,
    lastId: string,
    blockMs: number,
    count?: number,
  ): Promise<Replies>;
  /**
   * Calls `listener` when the engine goes down: a connection lost, or a
   * command timed out. Returns a function that removes it.
   */
  onDown(listener: (cause: Error) => void): () => void;
  /** Calls `listener` when the engine is up again. Returns its remover. */
  onUp(listener: () => void): () => void;
  /**
   * Closes every connection; calls in flight reject with kind "closed".
   * `await using` calls it.
   */
  close(): Promise<void>;
}
