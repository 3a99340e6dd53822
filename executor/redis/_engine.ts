// The executor's only view of Redis: streams, consumer groups, and the state
// of the connection. Nothing above this file sends a raw command, so another
// engine (another client, another broker) is one more file.
//
// Data flow, one queue (see SPEC "RedisExecutor and RedisNode"):
//
//   submitter                        Redis                          node
//   add/addMany ─── XADD ──────────> task stream ── XREADGROUP ──> read
//                                     group's PEL <── XACK+XDEL ─── ack
//                                        │  <── XCLAIM JUSTID ───── extend
//   remove ──────── XDEL ───────────────>│  <── XAUTOCLAIM ──────── claimIdle
//                                        │  <── XPENDING+XCLAIM ─── claimExpired
//   drop ────────── DEL                  │  <── XGROUP DELCONSUMER  removeConsumer
//   readReplies <── XREAD BLOCK ──── reply stream <── XADD ─────── add
//
// One command connection carries everything that does not block; each
// blocking read borrows a connection of its own, because a connection
// blocked in XREAD(GROUP) BLOCK cannot carry other commands. Commands issued
// in one macrotask leave in one write (node-redis flushes its queue on
// setImmediate), so `addMany` and `ack` are pipelined without MULTI.
//
// node-redis (npm:redis 6) is configured for:
// - RESP3, explicitly (the v6 default), with bulk strings mapped to Buffer, so
//   node:v8 bytes come back byte for byte, and maps mapped to flat arrays, so
//   XREAD(GROUP) replies have the RESP2 shape [key, entries] under either
//   protocol.
// - raw `sendCommand`: no per-command reply transforms, one parser below.
// - its own reconnect loop (capped back-off, below) and its offline queue:
//   a command sent while the server is away waits for the reconnect, bounded
//   by its timeout. Every command has one; none can hang.
// - an 'error' listener on every connection: an EventEmitter 'error' without
//   one is thrown, and would end the program.
import {
  ClientClosedError,
  createClient,
  DisconnectsClientError,
  ErrorReply,
  RESP_TYPES,
  TimeoutError,
} from "redis";
import { Buffer } from "node:buffer";

/** Options of `connect`. */
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
}

/** What `claimIdle` took over. */
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

/** An engine call that failed; `kind` says how, `cause` is the client's error. */
export class EngineError extends Error {
  /** How the call failed. */
  readonly kind: EngineErrorKind;

  /**
   * @param kind how the call failed.
   * @param message what failed, naming the command and the server.
   * @param options the client's error as `cause`.
   */
  constructor(kind: EngineErrorKind, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "EngineError";
    this.kind = kind;
  }
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
  /** Appends entries in one pipelined write; returns their ids in order. */
  addMany(
    stream: string,
    records: readonly Fields[],
    options?: { maxLen?: number },
  ): Promise<string[]>;
  /**
   * Takes up to `count` entries never delivered to `group`, waiting up to
   * `blockMs` for the first (0: return at once). They stay pending for
   * `consumer` until `ack`ed.
   */
  read(
    stream: string,
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
   * Takes over up to `count` entries that other consumers have held idle for
   * `minIdleMs` or more, in one atomic step that also reads their delivery
   * counts. Scans the group's pending list from where the last call stopped.
   */
  claimIdle(
    stream: string,
    group: string,
    consumer: string,
    minIdleMs: number,
    count: number,
  ): Promise<Claimed>;
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
   * a delivery, so `claimIdle` elsewhere does not take them.
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
   * until `extend` or `claimIdle` meets it: both drop it from the group
   * (Redis 7: XCLAIM and XAUTOCLAIM discard deleted entries), `extend` leaves
   * it out of its answer and `claimIdle` lists it under `deleted`. It is
   * never delivered again.
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

const DEFAULT_CONNECT_TIMEOUT = 10_000;
const DEFAULT_COMMAND_TIMEOUT = 5_000;
/** The largest count `read`, `claimIdle` and `readReplies` accept. */
const MAX_COUNT = 10_000;

// Reconnect back-off: 20, 40, 80 ... ms, capped at 500 ms, plus up to 50 ms
// of jitter so many nodes do not reconnect in step. A lower cap finds a
// restarted server sooner; a higher one costs a down server less.
//
// node-redis waits between attempts on a timer nobody can cancel (socket.js
// awaits node:timers/promises setTimeout), so a client destroyed mid-wait
// leaves it running. Each engine's back-off records when its last wait ends;
// close() outlasts it, so no timer outlives the engine (Deno's test
// sanitizers check), at the cost of up to 550 ms to close while Redis is down.
class Backoff {
  #until = 0;

  /** node-redis's `reconnectStrategy`. */
  readonly delay = (retries: number): number => {
    const ms = Math.min(20 * 2 ** retries, 500) +
      Math.floor(Math.random() * 50);
    this.#until = Math.max(this.#until, performance.now() + ms);
    return ms;
  };

  /**
   * Resolves once every wait the strategy handed out has ended: when
   * `ending` (a destroyed client's connect()) settles, which its retry loop
   * does once its wait is over, or else when the last wait is due.
   */
  async settled(ending?: Promise<unknown>): Promise<void> {
    const left = this.#until - performance.now();
    if (ending === undefined) {
      // A timer due later than node-redis's fires after it; 5 ms of margin
      // covers the rounding of both.
      if (left > 0) {
        await new Promise((resolve) => setTimeout(resolve, left + 5));
      }
      return;
    }
    // Bounded, should the loop be stuck elsewhere.
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      ending.then(() => {}, () => {}),
      new Promise((resolve) =>
        timer = setTimeout(resolve, Math.max(left, 0) + 100)
      ),
    ]);
    clearTimeout(timer);
  }
}

// claimIdle: XAUTOCLAIM does not return delivery counts, so the same script
// reads each claimed entry's count from XPENDING. Atomic, one round trip; a
// separate XPENDING could see an entry another consumer took in between.
// Returns { next cursor, entries, counts, deleted ids }.
const CLAIM_SCRIPT = `
local claimed = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], 'COUNT', ARGV[5])
local counts = {}
for i, entry in ipairs(claimed[2]) do
  local pending = redis.call('XPENDING', KEYS[1], ARGV[1], entry[1], entry[1], 1, ARGV[2])
  counts[i] = pending[1][4]
end
return { claimed[1], claimed[2], counts, claimed[3] or {} }
`;

// claimExpired: XPENDING IDLE lists a page of candidates idle for at least
// the floor, with their idle times and delivery counts; each is claimed only
// if its idle time has reached the lease in its own entry, until `count` are
// claimed (the page is larger, so entries of live holders do not slow the
// scan down). In one script, so no
// holder can extend an entry between the check and the claim. A pending id
// whose entry is gone (deleted after delivery) is acknowledged away, as
// XAUTOCLAIM drops such ids. Returns { next cursor, entries, counts,
// deleted ids }; the cursor is "-" once the list's end was reached.
const EXPIRED_SCRIPT = `
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], 'IDLE', ARGV[3], ARGV[4], '+', ARGV[5])
local entries, counts, deleted = {}, {}, {}
local floor, limit = tonumber(ARGV[3]), tonumber(ARGV[7])
local last = nil
for _, p in ipairs(pending) do
  if #entries >= limit then break end
  local id, idle, delivered = p[1], tonumber(p[3]), tonumber(p[4])
  last = id
  local found = redis.call('XRANGE', KEYS[1], id, id)
  if #found == 0 then
    redis.call('XACK', KEYS[1], ARGV[1], id)
    deleted[#deleted + 1] = id
  else
    local lease = floor
    local fields = found[1][2]
    for i = 1, #fields, 2 do
      if fields[i] == ARGV[6] then lease = tonumber(fields[i + 1]) or floor end
    end
    if idle >= lease then
      local claimed = redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, id)
      if claimed[1] then
        entries[#entries + 1] = claimed[1]
        counts[#counts + 1] = delivered + 1
      end
    end
  end
end
local next = '-'
if last ~= nil and (last ~= pending[#pending][1] or #pending == tonumber(ARGV[5])) then
  next = '(' .. last
end
return { next, entries, counts, deleted }
`;

// extend: XCLAIM JUSTID with min-idle 0 resets the idle time and, with
// JUSTID, leaves the delivery count alone (checked in engine_test.ts). But
// XCLAIM takes an entry from whoever holds it, so a node that stalled past
// its lease would take back a task another node now runs: only ids still
// pending for `consumer` are touched. Returns the ids extended.
const EXTEND_SCRIPT = `
local kept = {}
for i = 3, #ARGV do
  local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1, ARGV[2])
  if pending[1] then
    local claimed = redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
    if claimed[1] then kept[#kept + 1] = ARGV[i] end
  end
end
return kept
`;

// release: XCLAIM to the same consumer with an idle time past any lease
// (IDLE), and the delivery count one less (RETRYCOUNT), so that the claim
// that takes it next counts as its only delivery. Only ids still pending for
// `consumer`. Returns the ids handed back.
const RELEASE_SCRIPT = `
local released = {}
for i = 3, #ARGV do
  local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1, ARGV[2])
  if pending[1] then
    local count = math.max(tonumber(pending[1][4]) - 1, 0)
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'IDLE', 1000000000000, 'RETRYCOUNT', count, 'JUSTID')
    released[#released + 1] = ARGV[i]
  end
end
return released
`;

// announce and alive: expiry by Redis's own clock, so that nodes and
// executors on machines whose clocks differ agree on who is alive.
const ANNOUNCE_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return 1
`;

// sweepConsumers: a consumer that holds nothing and has not read for long is
// a node that died without leaving (a live node reads at least once a
// second). Removing a live one would cost nothing: its next read re-creates
// it.
const SWEEP_SCRIPT = `
local removed = 0
for _, consumer in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local name, pending, idle
  for i = 1, #consumer, 2 do
    if consumer[i] == 'name' then name = consumer[i + 1] end
    if consumer[i] == 'pending' then pending = tonumber(consumer[i + 1]) end
    if consumer[i] == 'idle' then idle = tonumber(consumer[i + 1]) end
  end
  if pending == 0 and idle >= tonumber(ARGV[2]) then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], name)
    removed = removed + 1
  end
end
return removed
`;
const ALIVE_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local gone = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
if #gone > 0 then
  redis.call('ZREM', KEYS[1], unpack(gone))
  redis.call('HDEL', KEYS[2], unpack(gone))
end
local members = redis.call('ZRANGE', KEYS[1], 0, -1)
if #members == 0 then return { {}, {} } end
return { members, redis.call('HMGET', KEYS[2], unpack(members)) }
`;

function newClient(
  backoff: Backoff,
  url: string,
  name: string | undefined,
  connectTimeout: number,
  commandTimeout: number,
) {
  return createClient({
    url,
    name,
    RESP: 3,
    // Redis Enterprise's maintenance notices: not used here, and their
    // handling reads environment variables (REDIS_DEBUG_MAINTENANCE), which
    // would make the library need --allow-env.
    maintNotifications: "disabled",
    commandOptions: {
      timeout: commandTimeout,
      typeMapping: {
        [RESP_TYPES.BLOB_STRING]: Buffer,
        [RESP_TYPES.MAP]: Array,
      },
    },
    socket: {
      // One TCP connect attempt; the reconnect loop makes the next.
      connectTimeout: Math.min(connectTimeout, commandTimeout),
      reconnectStrategy: backoff.delay,
    },
  });
}

type Client = ReturnType<typeof newClient>;
type Arg = string | Buffer;
type Reply = unknown;

interface Script {
  source: string;
  sha: string;
}

async function script(source: string): Promise<Script> {
  const digest = await crypto.subtle.digest(
    "SHA-1",
    new TextEncoder().encode(source),
  );
  const sha = Array.from(
    new Uint8Array(digest),
    (byte) => byte.toString(16).padStart(2, "0"),
  ).join("");
  return { source, sha };
}

/**
 * Checks a Redis URL.
 *
 * @param action what the URL is for, as messages start: "Cannot <action> as
 * 'url' ...".
 * @throws {TypeError} when it is not a redis:// or rediss:// URL.
 */
export function validateUrl(
  url: string,
  action = "connect to Redis",
): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw new TypeError(
      `Cannot ${action} as 'url' is not a URL: current value is ${
        JSON.stringify(url)
      }`,
      { cause: error },
    );
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    throw new TypeError(
      `Cannot ${action} as 'url' must start with redis:// or rediss://: current value has ${parsed.protocol}//`,
    );
  }
  return parsed;
}

function validateMs(name: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(
      `Cannot connect to Redis as '${name}' must be a finite number > 0: current value is ${value}`,
    );
  }
}

function validateCount(what: string, count: number): void {
  if (!Number.isInteger(count) || count < 1 || count > MAX_COUNT) {
    throw new RangeError(
      `Cannot ${what} as 'count' must be an integer from 1 to ${MAX_COUNT}: current value is ${count}`,
    );
  }
}

function validateBlock(what: string, blockMs: number): void {
  if (!Number.isFinite(blockMs) || blockMs < 0) {
    throw new RangeError(
      `Cannot ${what} as 'blockMs' must be a finite number >= 0: current value is ${blockMs}`,
    );
  }
}

const text = (value: unknown): string =>
  Buffer.isBuffer(value) ? value.toString("utf8") : String(value);

function bytes(value: Uint8Array | string): Arg {
  if (typeof value === "string") return value;
  return Buffer.isBuffer(value)
    ? value
    : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

function fieldArgs(fields: Fields): Arg[] {
  const args: Arg[] = [];
  for (const [name, value] of Object.entries(fields)) {
    args.push(name, bytes(value));
  }
  if (args.length === 0) {
    throw new TypeError("Cannot add a stream entry with no fields");
  }
  return args;
}

// [id, [field, value, ...]] as Redis sends a stream entry.
function toEntry(raw: Reply): Entry {
  const [id, flat] = raw as [Buffer, Buffer[] | null];
  const fields: Record<string, Uint8Array> = {};
  for (let i = 0; flat && i < flat.length; i += 2) {
    fields[text(flat[i])] = flat[i + 1];
  }
  return { id: text(id), fields };
}

// XREAD(GROUP) for one stream: null, or [key, entries] (maps as arrays).
function streamEntries(reply: Reply): Reply[] {
  if (reply === null || reply === undefined) return [];
  const flat = reply as Reply[];
  return (flat[1] ?? []) as Reply[];
}

class RedisEngine implements Engine {
  // The server's host:port for messages; never the credentials.
  readonly #where: string;
  readonly #commandTimeout: number;
  readonly #command: Client;
  // Idle blocking connections; a blocking read takes one or opens one.
  readonly #idleBlocking: Client[] = [];
  // Every connection this engine opened and has not destroyed.
  readonly #clients = new Set<Client>();
  // Connections that are connected and ready now.
  readonly #ready = new Set<Client>();
  // Connections still making their first connection: not counted as down,
  // so opening one more blocking connection is no outage.
  readonly #opening = new Set<Client>();
  // Connections whose last command timed out: down until one succeeds.
  readonly #stalled = new Set<Client>();
  readonly #downListeners = new Set<(cause: Error) => void>();
  readonly #upListeners = new Set<() => void>();
  // claimIdle's XAUTOCLAIM cursor per stream and group; "0-0" starts over.
  readonly #cursors = new Map<string, string>();
  readonly #claim: Script;
  readonly #expired: Script;
  readonly #extend: Script;
  readonly #announce: Script;
  readonly #alive: Script;
  readonly #sweep: Script;
  readonly #release: Script;
  readonly #connectTimeout: number;
  readonly #backoff: Backoff;
  #up = false;
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(
    where: string,
    command: Client,
    options: Required<Omit<EngineOptions, "name">>,
    backoff: Backoff,
    scripts: {
      claim: Script;
      expired: Script;
      extend: Script;
      announce: Script;
      alive: Script;
      sweep: Script;
      release: Script;
    },
  ) {
    this.#backoff = backoff;
    this.#where = where;
    this.#command = command;
    this.#commandTimeout = options.commandTimeout;
    this.#connectTimeout = options.connectTimeout;
    this.#claim = scripts.claim;
    this.#expired = scripts.expired;
    this.#extend = scripts.extend;
    this.#announce = scripts.announce;
    this.#alive = scripts.alive;
    this.#sweep = scripts.sweep;
    this.#release = scripts.release;
  }

  get up(): boolean {
    return this.#up;
  }

  /** Watches a connection's state; before it connects. */
  watch(client: Client): void {
    this.#clients.add(client);
    client.on("ready", () => {
      this.#ready.add(client);
      // A new connection: a timeout on the old one says nothing about it.
      this.#stalled.delete(client);
      this.#update();
    });
    // Every connection error lands here, never on the process.
    client.on("error", (error: Error) => {
      if (client.isReady) return;
      this.#ready.delete(client);
      this.#update(error);
    });
    client.on("end", () => {
      this.#ready.delete(client);
      this.#update(new Error(`Redis connection to ${this.#where} ended`));
    });
  }

  /** Connects `client`, or rejects after `connectTimeout`. */
  async open(client: Client): Promise<void> {
    let lastError: Error | undefined;
    const onError = (error: Error) => lastError = error;
    client.on("error", onError);
    this.#opening.add(client);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const connecting = client.connect();
    try {
      await Promise.race([
        connecting,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new EngineError(
                  "timeout",
                  `Cannot connect to Redis at ${this.#where} within ${this.#connectTimeout} ms${
                    lastError ? `: ${lastError.message}` : ""
                  }`,
                  { cause: lastError },
                ),
              ),
            this.#connectTimeout,
          );
        }),
      ]);
    } catch (error) {
      // Ends node-redis's retry loop; its connect() then rejects, once the
      // back-off wait it is in (if any) is over.
      connecting.catch(() => {});
      this.#destroy(client);
      await this.#backoff.settled(connecting);
      throw error;
    } finally {
      clearTimeout(timer);
      client.off("error", onError);
      this.#opening.delete(client);
    }
  }

  /** Hands a connected blocking connection to the idle list. */
  returnBlocking(client: Client): void {
    this.#idleBlocking.push(client);
  }

  /** Marks the engine up once every connection is; no event the first time. */
  started(): void {
    this.#up = this.#isUp();
  }

  #isUp(): boolean {
    return !this.#closed && this.#stalled.size === 0 &&
      [...this.#clients].every((client) =>
        this.#ready.has(client) || this.#opening.has(client)
      );
  }

  #update(cause?: Error): void {
    if (this.#closed) return;
    const up = this.#isUp();
    if (up === this.#up) return;
    this.#up = up;
    // Listeners run after node-redis's emit returns, so one that throws
    // cannot break the client's state machine.
    if (up) {
      for (const listener of this.#upListeners) queueMicrotask(listener);
    } else {
      const error = cause ??
        new Error(`Redis connection to ${this.#where} is down`);
      for (const listener of this.#downListeners) {
        queueMicrotask(() => listener(error));
      }
    }
  }

  #destroy(client: Client): void {
    this.#clients.delete(client);
    this.#ready.delete(client);
    this.#stalled.delete(client);
    try {
      client.destroy();
    } catch { /* already closed */ }
  }

  #wrap(command: string, error: unknown, timeout: number): EngineError {
    if (error instanceof EngineError) return error;
    if (this.#closed) {
      return new EngineError(
        "closed",
        `Redis ${command} did not finish: the engine was closed`,
        { cause: error },
      );
    }
    if (error instanceof ErrorReply) {
      return new EngineError(
        "reply",
        `Redis ${command} failed on ${this.#where}: ${error.message}`,
        { cause: error },
      );
    }
    if (error instanceof TimeoutError) {
      return new EngineError(
        "timeout",
        `Redis ${command} got no reply from ${this.#where} within ${timeout} ms`,
        { cause: error },
      );
    }
    if (
      error instanceof ClientClosedError ||
      error instanceof DisconnectsClientError
    ) {
      return new EngineError(
        "closed",
        `Redis ${command} did not finish: its connection was closed`,
        { cause: error },
      );
    }
    const message = error instanceof Error ? error.message : String(error);
    return new EngineError(
      "disconnected",
      `Redis ${command} lost its connection to ${this.#where}: ${message}`,
      { cause: error },
    );
  }

  // Every command goes through here: bounded, its error an EngineError.
  async #send(
    client: Client,
    args: Arg[],
    timeout = this.#commandTimeout,
  ): Promise<Reply> {
    const command = String(args[0]);
    if (this.#closed) {
      throw new EngineError(
        "closed",
        `Cannot send Redis ${command}: the engine is closed`,
      );
    }
    try {
      const reply = await client.sendCommand(args, { timeout });
      if (this.#stalled.delete(client)) this.#update();
      return reply;
    } catch (error) {
      if (error instanceof TimeoutError && !this.#closed) {
        this.#stalled.add(client);
        this.#update(this.#wrap(command, error, timeout));
      }
      throw this.#wrap(command, error, timeout);
    }
  }

  // EVALSHA, and EVAL once per server that does not have the script yet (a
  // restarted server has lost its script cache).
  async #eval(script: Script, keys: Arg[], args: Arg[]): Promise<Reply> {
    const tail = [String(keys.length), ...keys, ...args];
    try {
      return await this.#send(this.#command, ["EVALSHA", script.sha, ...tail]);
    } catch (error) {
      const noScript = error instanceof EngineError && error.kind === "reply" &&
        error.message.includes("NOSCRIPT");
      if (!noScript) throw error;
      return await this.#send(this.#command, ["EVAL", script.source, ...tail]);
    }
  }

  // Runs a blocking command on a connection of its own.
  async #blocking(args: Arg[], blockMs: number): Promise<Reply> {
    let client = this.#idleBlocking.pop();
    if (client === undefined) {
      if (this.#closed) {
        throw new EngineError(
          "closed",
          `Cannot send Redis ${args[0]}: the engine is closed`,
        );
      }
      client = this.#command.duplicate();
      this.watch(client);
      await this.open(client);
    }
    try {
      return await this.#send(client, args, blockMs + this.#commandTimeout);
    } finally {
      if (this.#closed) this.#destroy(client);
      else this.#idleBlocking.push(client);
    }
  }

  async createGroup(stream: string, group: string): Promise<boolean> {
    try {
      await this.#send(this.#command, [
        "XGROUP",
        "CREATE",
        stream,
        group,
        "0",
        "MKSTREAM",
      ]);
      return true;
    } catch (error) {
      if (
        error instanceof EngineError && error.kind === "reply" &&
        error.message.includes("BUSYGROUP")
      ) return false;
      throw error;
    }
  }

  #addArgs(
    stream: string,
    fields: Fields,
    maxLen?: number,
    noCreate?: boolean,
  ): Arg[] {
    const trim = maxLen === undefined ? [] : ["MAXLEN", "~", String(maxLen)];
    const create = noCreate ? ["NOMKSTREAM"] : [];
    return ["XADD", stream, ...create, ...trim, "*", ...fieldArgs(fields)];
  }

  async add(
    stream: string,
    fields: Fields,
    options: { maxLen?: number; noCreate?: boolean } = {},
  ): Promise<string> {
    const id = await this.#send(
      this.#command,
      this.#addArgs(stream, fields, options.maxLen, options.noCreate),
    );
    return id === null || id === undefined ? "" : text(id);
  }

  async addMany(
    stream: string,
    records: readonly Fields[],
    options: { maxLen?: number } = {},
  ): Promise<string[]> {
    const commands = records.map((fields) =>
      this.#addArgs(stream, fields, options.maxLen)
    );
    // Issued in one macrotask, so node-redis writes them in one go.
    const ids = await Promise.all(
      commands.map((args) => this.#send(this.#command, args)),
    );
    return ids.map(text);
  }

  async read(
    stream: string,
    group: string,
    consumer: string,
    count: number,
    blockMs: number,
  ): Promise<Delivery[]> {
    validateCount("read a stream", count);
    validateBlock("read a stream", blockMs);
    const head = [
      "XREADGROUP",
      "GROUP",
      group,
      consumer,
      "COUNT",
      String(count),
    ];
    const tail = ["STREAMS", stream, ">"];
    const reply = blockMs === 0
      ? await this.#send(this.#command, [...head, ...tail])
      : await this.#blocking(
        [...head, "BLOCK", String(Math.ceil(blockMs)), ...tail],
        blockMs,
      );
    return streamEntries(reply).map((raw) => ({
      ...toEntry(raw),
      deliveries: 1,
    }));
  }

  async ack(
    stream: string,
    group: string,
    ids: readonly string[],
    options: { remove?: boolean } = {},
  ): Promise<number> {
    if (ids.length === 0) return 0;
    const acked = this.#send(this.#command, ["XACK", stream, group, ...ids]);
    if (options.remove) {
      const [count] = await Promise.all([
        acked,
        this.#send(this.#command, ["XDEL", stream, ...ids]),
      ]);
      return Number(count);
    }
    return Number(await acked);
  }

  claimIdle(
    stream: string,
    group: string,
    consumer: string,
    minIdleMs: number,
    count: number,
  ): Promise<Claimed> {
    validateCount("claim idle entries", count);
    validateBlock("claim idle entries", minIdleMs);
    return this.#claimWith(this.#claim, `${stream}\n${group}`, "0-0", stream, [
      group,
      consumer,
      String(Math.floor(minIdleMs)),
    ], [String(count)]);
  }

  claimExpired(
    stream: string,
    group: string,
    consumer: string,
    options: ClaimExpiredOptions,
  ): Promise<Claimed> {
    const { leaseField, minIdleMs, count } = options;
    const scan = options.scan ?? Math.max(count, 100);
    validateCount("claim expired entries", count);
    validateCount("scan pending entries", scan);
    validateBlock("claim expired entries", minIdleMs);
    const key = `expired\n${stream}\n${group}`;
    return this.#claimWith(this.#expired, key, "-", stream, [
      group,
      consumer,
      String(Math.floor(minIdleMs)),
    ], [String(Math.max(scan, count)), leaseField, String(count)]);
  }

  // Runs a claim script whose arguments are `head`, the scan cursor kept
  // under `key` (`start` the first time), then `tail`; it returns { next
  // cursor, entries, counts, deleted ids }.
  async #claimWith(
    claim: Script,
    key: string,
    start: string,
    stream: string,
    head: string[],
    tail: string[],
  ): Promise<Claimed> {
    const cursor = this.#cursors.get(key) ?? start;
    const reply = await this.#eval(claim, [stream], [
      ...head,
      cursor,
      ...tail,
    ]) as [Buffer, Reply[], number[], Buffer[]];
    const [next, raw, counts, deleted] = reply;
    this.#cursors.set(key, text(next));
    return {
      entries: raw.map((entry, i) => ({
        ...toEntry(entry),
        deliveries: Number(counts[i]),
      })),
      deleted: deleted.map(text),
    };
  }

  async extend(
    stream: string,
    group: string,
    consumer: string,
    ids: readonly string[],
  ): Promise<string[]> {
    if (ids.length === 0) return [];
    const kept = await this.#eval(this.#extend, [stream], [
      group,
      consumer,
      ...ids,
    ]) as Buffer[];
    return kept.map(text);
  }

  async release(
    stream: string,
    group: string,
    consumer: string,
    ids: readonly string[],
  ): Promise<string[]> {
    if (ids.length === 0) return [];
    const released = await this.#eval(this.#release, [stream], [
      group,
      consumer,
      ...ids,
    ]) as Buffer[];
    return released.map(text);
  }

  async remove(stream: string, ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    return Number(await this.#send(this.#command, ["XDEL", stream, ...ids]));
  }

  async drop(keys: readonly string[]): Promise<number> {
    if (keys.length === 0) return 0;
    return Number(await this.#send(this.#command, ["DEL", ...keys]));
  }

  async announce(
    key: string,
    dataKey: string,
    member: string,
    data: string,
    options: { ttlMs: number; keyTtlMs: number },
  ): Promise<void> {
    await this.#eval(this.#announce, [key, dataKey], [
      member,
      String(Math.ceil(options.ttlMs)),
      String(Math.ceil(options.keyTtlMs)),
      data,
    ]);
  }

  async expire(keys: readonly string[], ttlMs: number): Promise<void> {
    const ms = String(Math.ceil(ttlMs));
    await Promise.all(
      keys.map((key) => this.#send(this.#command, ["PEXPIRE", key, ms])),
    );
  }

  async sweepConsumers(
    stream: string,
    group: string,
    idleMs: number,
  ): Promise<number> {
    return Number(
      await this.#eval(this.#sweep, [stream], [group, String(idleMs)]),
    );
  }

  async alive(key: string, dataKey: string): Promise<Alive[]> {
    const [members, data] = await this.#eval(
      this.#alive,
      [key, dataKey],
      [],
    ) as [
      Buffer[],
      (Buffer | null)[],
    ];
    return members.map((member, i) => ({
      member: text(member),
      data: data[i] === null ? "" : text(data[i]),
    }));
  }

  async retire(key: string, dataKey: string, member: string): Promise<void> {
    await Promise.all([
      this.#send(this.#command, ["ZREM", key, member]),
      this.#send(this.#command, ["HDEL", dataKey, member]),
    ]);
  }

  async removeConsumer(
    stream: string,
    group: string,
    consumer: string,
  ): Promise<number> {
    return Number(
      await this.#send(this.#command, [
        "XGROUP",
        "DELCONSUMER",
        stream,
        group,
        consumer,
      ]),
    );
  }

  async readReplies(
    stream: string,
    lastId: string,
    blockMs: number,
    count = 1000,
  ): Promise<Replies> {
    validateCount("read replies", count);
    validateBlock("read replies", blockMs);
    const head = ["XREAD", "COUNT", String(count)];
    const tail = ["STREAMS", stream, lastId];
    const reply = blockMs === 0
      ? await this.#send(this.#command, [...head, ...tail])
      : await this.#blocking(
        [...head, "BLOCK", String(Math.ceil(blockMs)), ...tail],
        blockMs,
      );
    const entries = streamEntries(reply).map(toEntry);
    return { entries, lastId: entries.at(-1)?.id ?? lastId };
  }

  onDown(listener: (cause: Error) => void): () => void {
    this.#downListeners.add(listener);
    return () => this.#downListeners.delete(listener);
  }

  onUp(listener: () => void): () => void {
    this.#upListeners.add(listener);
    return () => this.#upListeners.delete(listener);
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #close(): Promise<void> {
    this.#closed = true;
    this.#up = false;
    // Blocked reads end now (they reject with kind "closed").
    for (const client of this.#idleBlocking.splice(0)) this.#destroy(client);
    for (const client of this.#clients) {
      if (client !== this.#command) this.#destroy(client);
    }
    // The command connection lets replies in flight arrive, bounded.
    if (this.#command.isReady) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        this.#command.close().catch(() => {}),
        new Promise((resolve) =>
          timer = setTimeout(resolve, this.#commandTimeout)
        ),
      ]).finally(() => clearTimeout(timer));
    }
    this.#destroy(this.#command);
    await this.#backoff.settled();
  }
}

/**
 * Opens an engine on the Redis at `url`: a command connection and a blocking
 * one, both connected before it resolves.
 *
 * @param url `redis://[user:password@]host[:port][/db]` or `rediss://…`.
 * @param options timeouts and the connections' name.
 * @returns the engine; `close()` it.
 * @throws {TypeError} when `url` is not a redis:// or rediss:// URL.
 * @throws {RangeError} when a timeout is not a finite number > 0.
 * @throws {EngineError} of kind "timeout" when Redis cannot be reached within
 * `connectTimeout`.
 */
export async function connect(
  url: string,
  options: EngineOptions = {},
): Promise<Engine> {
  const {
    connectTimeout = DEFAULT_CONNECT_TIMEOUT,
    commandTimeout = DEFAULT_COMMAND_TIMEOUT,
    name,
  } = options;
  const parsed = validateUrl(url);
  validateMs("connectTimeout", connectTimeout);
  validateMs("commandTimeout", commandTimeout);
  const backoff = new Backoff();
  const command = newClient(
    backoff,
    url,
    name,
    connectTimeout,
    commandTimeout,
  );
  const engine = new RedisEngine(
    parsed.host,
    command,
    { connectTimeout, commandTimeout },
    backoff,
    {
      claim: await script(CLAIM_SCRIPT),
      expired: await script(EXPIRED_SCRIPT),
      extend: await script(EXTEND_SCRIPT),
      announce: await script(ANNOUNCE_SCRIPT),
      alive: await script(ALIVE_SCRIPT),
      sweep: await script(SWEEP_SCRIPT),
      release: await script(RELEASE_SCRIPT),
    },
  );
  engine.watch(command);
  await engine.open(command);
  const blocking = command.duplicate();
  engine.watch(blocking);
  try {
    await engine.open(blocking);
  } catch (error) {
    await engine.close();
    throw error;
  }
  // The first blocking read takes the connection opened here.
  engine.returnBlocking(blocking);
  engine.started();
  return engine;
}
