// The node side of large values (_wire/values.ts): the arguments a task
// refers to, read from Redis once per node (a lookup table shared by a
// thousand tasks crosses the network once), and a result over its
// executor's inlineLimit stored under a key of its own instead of riding in
// the reply.
import type { Link } from "../_engine/link.ts";
import { decode, encode } from "../_wire/codec.ts";
import type { ResultReply, TaskRecord } from "../_wire/records.ts";
import {
  tooLarge,
  VALUE_LIMITS,
  valueGone,
  valueKey,
  type ValueRef,
} from "../_wire/values.ts";

// The decoded values kept for the next task that needs them, by the size of
// their encodings; the least recently used go first.
const CACHE_BYTES = 256 * 1024 * 1024;

/** The values one node reads and stores. */
export class NodeValues {
  readonly #link: Link;
  readonly #queue: string;
  // Values read (or being read), by key, least recently used first.
  readonly #cache = new Map<
    string,
    { size: number; value: Promise<unknown> }
  >();
  #cached = 0;

  constructor(link: Link, queue: string) {
    this.#link = link;
    this.#queue = queue;
  }

  /**
   * Puts the values a task refers to in its arguments.
   *
   * @returns undefined when it refers to none; else a promise that resolves
   * once they are in place, or rejects when one is gone from Redis.
   */
  resolve(record: TaskRecord): Promise<void> | undefined {
    const refs = record.refs;
    if (refs === undefined || refs.length === 0) return undefined;
    const ttl = (record.values ?? VALUE_LIMITS).valueTtl;
    return Promise.all(refs.map((ref) => this.#read(ref, ttl))).then(
      (values) => {
        refs.forEach((ref, i) => {
          if (ref.at.length === 1) record.args[ref.at[0]] = values[i];
          else (record.args[ref.at[0]] as unknown[])[ref.at[1]] = values[i];
        });
      },
    );
  }

  /**
   * Stores a result reply's value when its encoding is over the task's
   * inlineLimit: the reply then carries where it is.
   *
   * @returns undefined when it stays inline; else a promise of the reply
   * to send (a RangeError over maxValueSize; an error if Redis refused).
   */
  store(
    record: TaskRecord,
    reply: ResultReply,
  ): Promise<ResultReply | Error> | undefined {
    if (!reply.ok) return undefined;
    const limits = record.values ?? VALUE_LIMITS;
    if (surelySmall(reply.value, limits.inlineLimit)) return undefined;
    let bytes: Uint8Array;
    try {
      bytes = encode(reply.value);
    } catch {
      return undefined; // the outbox says why it cannot be sent
    }
    const size = bytes.byteLength;
    if (size <= limits.inlineLimit) return undefined;
    if (size > limits.maxValueSize) {
      return Promise.resolve(tooLarge("the result", size, limits.maxValueSize));
    }
    const ref: ValueRef = {
      key: valueKey(this.#queue, record.executorId, `r${record.taskId}`),
      size,
    };
    return this.#link.connect()
      .then((engine) => engine.setValue(ref.key, bytes, limits.valueTtl))
      .then(
        (): ResultReply => ({ ...reply, value: undefined, stored: ref }),
        (error) =>
          new Error(`Cannot store the task's result in Redis: ${error}`, {
            cause: error,
          }),
      );
  }

  #read(ref: ValueRef, ttl: number): Promise<unknown> {
    const hit = this.#cache.get(ref.key);
    if (hit !== undefined) {
      // Most recently used: to the end.
      this.#cache.delete(ref.key);
      this.#cache.set(ref.key, hit);
      return hit.value;
    }
    const value = this.#link.connect()
      .then((engine) => engine.getValues([ref.key], ttl))
      .then(([bytes]) => {
        if (bytes === null) throw valueGone(ref);
        return decode<unknown>(bytes);
      });
    const entry = { size: ref.size, value };
    this.#cache.set(ref.key, entry);
    this.#cached += ref.size;
    // A failed read is not kept: the next task tries again.
    value.catch(() => this.#forget(ref.key, entry));
    while (this.#cached > CACHE_BYTES && this.#cache.size > 1) {
      const [key, oldest] = this.#cache.entries().next().value!;
      this.#forget(key, oldest);
    }
    return value;
  }

  #forget(key: string, entry: { size: number }): void {
    if (this.#cache.get(key) !== entry) return;
    this.#cache.delete(key);
    this.#cached -= entry.size;
  }
}

// Whether a value's encoding cannot be over `limit` bytes, without encoding
// it: a primitive, a short string, a small buffer.
function surelySmall(value: unknown, limit: number): boolean {
  if (value === null || typeof value !== "object") {
    return typeof value !== "string" || value.length * 2 + 16 <= limit;
  }
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) {
    return value.byteLength + 64 <= limit;
  }
  return false;
}
