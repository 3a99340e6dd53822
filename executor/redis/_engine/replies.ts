// Inside the engine: what goes into a command and what comes out of a reply
// (bulk strings arrive as Buffers, maps as flat arrays: connection.ts), and
// the bounds of a command's arguments.
import { Buffer } from "node:buffer";
import type { Entry, Fields } from "./engine.ts";
import type { Arg, Reply } from "./connection.ts";

/** The largest count `read`, `claimExpired` and `readReplies` accept. */
const MAX_COUNT = 10_000;

/** Throws unless `count` is an integer from 1 to MAX_COUNT. */
export function validateCount(what: string, count: number): void {
  if (!Number.isInteger(count) || count < 1 || count > MAX_COUNT) {
    throw new RangeError(
      `Cannot ${what} as 'count' must be an integer from 1 to ${MAX_COUNT}: current value is ${count}`,
    );
  }
}

/** Throws unless `ms` (the argument `name`) is a finite number >= 0. */
export function validateBlock(what: string, name: string, ms: number): void {
  if (!Number.isFinite(ms) || ms < 0) {
    throw new RangeError(
      `Cannot ${what} as '${name}' must be a finite number >= 0: current value is ${ms}`,
    );
  }
}

/** A bulk string's text. */
export const text = (value: unknown): string =>
  Buffer.isBuffer(value) ? value.toString("utf8") : String(value);

/** An array reply of bulk strings, as text. */
export const texts = (value: unknown): string[] =>
  (value as unknown[]).map(text);

/** The largest value Redis stores (its proto-max-bulk-len default). */
export const MAX_VALUE_BYTES = 512 * 1024 * 1024;

/** A value as a command's argument: a Buffer over the same bytes. */
export function bytes(value: Uint8Array | string): Arg {
  if (typeof value === "string") return value;
  return Buffer.isBuffer(value)
    ? value
    : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

/** An entry's fields as XADD's arguments. */
export function fieldArgs(fields: Fields): Arg[] {
  const args: Arg[] = [];
  for (const [name, value] of Object.entries(fields)) {
    args.push(name, bytes(value));
  }
  if (args.length === 0) {
    throw new TypeError("Cannot add a stream entry with no fields");
  }
  return args;
}

/** [id, [field, value, ...]] as Redis sends a stream entry. */
export function toEntry(raw: Reply): Entry {
  const [id, flat] = raw as [Buffer, Buffer[] | null];
  const fields: Record<string, Uint8Array> = {};
  for (let i = 0; flat && i < flat.length; i += 2) {
    fields[text(flat[i])] = flat[i + 1];
  }
  return { id: text(id), fields };
}

/** XREAD(GROUP) for one stream: null, or [key, entries]. */
export function streamEntries(reply: Reply): Reply[] {
  if (reply === null || reply === undefined) return [];
  const flat = reply as Reply[];
  return (flat[1] ?? []) as Reply[];
}

/**
 * XREADGROUP over several streams: [key, entries] for each stream that had
 * entries (RESP3 maps arrive as flat arrays: key, entries, key, …).
 */
export function streamsEntries(reply: Reply): [string, Reply[]][] {
  if (reply === null || reply === undefined) return [];
  const flat = reply as Reply[];
  const out: [string, Reply[]][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    out.push([text(flat[i]), (flat[i + 1] ?? []) as Reply[]]);
  }
  return out;
}
