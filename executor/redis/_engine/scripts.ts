// Inside the engine: the Lua scripts, each one atomic step on the server,
// sent by their SHA-1 (EVALSHA; EVAL once per server that lacks one).

/** A script and its SHA-1, as EVALSHA wants it. */
export interface Script {
  source: string;
  sha: string;
}

// claimExpired: XPENDING IDLE lists a page of candidates idle for at least
// the floor, with their idle times and delivery counts; each is claimed only
// if its idle time has reached the lease in its own entry, until `count` are
// claimed (the page is larger, so entries of live holders do not slow the
// scan down). In one script, so no holder can extend an entry between the
// check and the claim. A pending id whose entry is gone (deleted after
// delivery) is acknowledged away, as XAUTOCLAIM would drop it. Returns
// { next cursor, entries, counts, deleted ids }; the cursor is "-" once the
// list's end was reached.
const EXPIRED = `
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
const EXTEND = `
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
const RELEASE = `
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

// addMany: many entries of one stream in one command. Pipelined, each
// XADD costs its own command on both sides (~8 µs an entry, client and
// server, measured with node-redis here); in one script ~2.5. ARGV[1] is
// the number of arguments an entry takes (its field names and values), the
// entries' follow. Returns their ids, in order.
const ADD_MANY = `
local n = tonumber(ARGV[1])
local ids = {}
for i = 2, #ARGV, n do
  ids[#ids + 1] = redis.call('XADD', KEYS[1], '*', unpack(ARGV, i, i + n - 1))
end
return ids
`;

// announce and alive: expiry by Redis's own clock, so that nodes and
// executors on machines whose clocks differ agree on who is alive.
const ANNOUNCE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return 1
`;

const ALIVE = `
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

// sweepConsumers: a consumer that holds nothing and has not read for long is
// a node that died without leaving (a live node reads at least once a
// second). Removing a live one would cost nothing: its next read re-creates
// it.
const SWEEP = `
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

/** The engine's scripts, by what they do. */
export interface Scripts {
  addMany: Script;
  expired: Script;
  extend: Script;
  release: Script;
  announce: Script;
  alive: Script;
  sweep: Script;
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

/** The scripts with their SHA-1s. */
export async function loadScripts(): Promise<Scripts> {
  return {
    addMany: await script(ADD_MANY),
    expired: await script(EXPIRED),
    extend: await script(EXTEND),
    release: await script(RELEASE),
    announce: await script(ANNOUNCE),
    alive: await script(ALIVE),
    sweep: await script(SWEEP),
  };
}
