// Both sides: large values kept in Redis (SPEC "Large values"). An argument
// or result whose encoding is over the executor's inlineLimit is not put in
// the task entry or the reply: it is stored under a key of its own and the
// record carries a reference to it.
//
//   executor ── SET <queue>:values:<executor>:<n> PX ttl ──> Redis
//      └── XADD task { args: [null, …], refs: [{ at: [0], key, size }] }
//   node ── GETEX key PX ttl (once per node: cached) ──> runs the task
//      └── a large result: SET …:r<task> PX ttl, reply { stored: ref }
//   executor ── GETEX on the first result() (or a dependent's node reads it)
//   shutdown ── DEL every key the executor stored, or a node stored for it

/** Where a stored value is, and how many bytes its encoding has. */
export interface ValueRef {
  key: string;
  size: number;
}

/**
 * A task argument kept in Redis: its place in the record's `args` (`[i]`
 * for a call's argument, `[column, row]` in a map chunk), where `null` is
 * left.
 */
export interface ArgRef extends ValueRef {
  at: [number] | [number, number];
}

/** How an executor keeps values: its options, as a task carries them. */
export interface ValueLimits {
  /** Encodings larger than this many bytes are stored, not inlined. */
  inlineLimit: number;
  /** ms a stored value lives unless read (each read renews it). */
  valueTtl: number;
  /** Encodings larger than this fail their task (RangeError). */
  maxValueSize: number;
}

/** The defaults of SPEC "Large values". */
export const VALUE_LIMITS: Readonly<ValueLimits> = Object.freeze({
  inlineLimit: 64 * 1024,
  valueTtl: 60 * 60 * 1000,
  maxValueSize: 256 * 1024 * 1024,
});

/** The largest maxValueSize: Redis's own limit on a value (512 MB). */
export const MAX_VALUE_SIZE = 512 * 1024 * 1024;

/** The key of a value an executor (or a node, for it) stores. */
export function valueKey(
  queue: string,
  executorId: string,
  name: string,
): string {
  return `${queue}:values:${executorId}:${name}`;
}

/** The error of a value over `maxValueSize`. */
export function tooLarge(
  what: string,
  size: number,
  maxValueSize: number,
): RangeError {
  return new RangeError(
    `Cannot store ${what} in Redis as its encoding is ${size} bytes and 'maxValueSize' is ${maxValueSize}`,
  );
}

/** The error of a stored value that is no longer in Redis. */
export function valueGone(ref: ValueRef): Error {
  return new Error(
    `The stored value ${ref.key} (${ref.size} bytes) is gone from Redis: it outlived 'valueTtl' unread, its executor shut down, or Redis lost it`,
  );
}
