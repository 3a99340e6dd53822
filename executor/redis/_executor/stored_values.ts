// The executor side of large values (SPEC "Large values", _wire/values.ts):
// which arguments go to Redis instead of the task entry, each object once;
// the results nodes stored, read on the first `result()`; and the keys'
// end — deleted once no future or task can need them, and all of them by
// shutdown, with the time-to-live as the backstop.
//
//   submit ── place(): an object stored before → its ref (pinned)
//        └─ entry over inlineLimit → each argument over it: a new key
//   flush ── writes(): SET before the XADD, on the same connection
//   reply { stored } ── StoredResult (a LazyValue): GETEX on first result()
//   settle ── unpin; a key whose object or future is gone → DEL
import { LazyValue } from "../../../future/_lazy.ts";
import type { Engine } from "../_engine/engine.ts";
import { decode, encode, encodedOver } from "../_wire/codec.ts";
import type { TaskRecord } from "../_wire/records.ts";
import {
  type ArgRef,
  tooLarge,
  valueGone,
  valueKey,
  type ValueLimits,
  type ValueRef,
} from "../_wire/values.ts";

/** A value this executor stores, and whether Redis has it now. */
interface Stored extends ValueRef {
  /** The `epoch` it was last written in; -1: not yet. */
  epoch: number;
  /** performance.now() of the last write. */
  writtenAt: number;
  /** Its bytes while a write is due; dropped once written. */
  bytes: Uint8Array | undefined;
}

/** A write a task's entry needs first. */
export interface ValueWrite {
  stored: Stored;
  bytes: Uint8Array;
}

/** A result a node stored: read from Redis on the first `result()`. */
export class StoredResult extends LazyValue {
  /** Where it is. */
  readonly ref: ValueRef;

  constructor(owner: object, ref: ValueRef, load: () => Promise<unknown>) {
    super(owner, load);
    this.ref = ref;
  }
}

/** How the values reach Redis: the executor's current engine. */
export interface ValuesContext {
  /** The engine, connected (a new link after an idle spell). */
  engine(): Promise<Engine>;
  /** The engine if connected and up now, else undefined. */
  engineNow(): Engine | undefined;
}

/** The values one executor stores. */
export class StoredValues {
  readonly limits: ValueLimits;
  readonly #queue: string;
  readonly #executorId: string;
  readonly #owner: object;
  readonly #context: ValuesContext;
  readonly #byObject = new WeakMap<object, Stored>();
  // Keys some queued or running task refers to, and by how many.
  readonly #pins = new Map<string, number>();
  // Keys whose object or future is gone: deleted once unpinned.
  readonly #orphans = new Set<string>();
  // Keys to delete at the next chance.
  readonly #doomed = new Set<string>();
  // Every key this executor stored, or a node stored for it, not deleted.
  readonly #keys = new Set<string>();
  // The results nodes stored, while their futures live.
  readonly #results = new Map<string, WeakRef<StoredResult>>();
  readonly #gone = new FinalizationRegistry<string>((key) => {
    this.#results.delete(key);
    this.#orphan(key);
  });
  #next = 1;
  #sweeping = false;
  // Bumped when Redis came back without its data: every value is due again.
  #epoch = 0;

  constructor(
    queue: string,
    executorId: string,
    limits: ValueLimits,
    owner: object,
    context: ValuesContext,
  ) {
    this.#queue = queue;
    this.#executorId = executorId;
    this.limits = limits;
    this.#owner = owner;
    this.#context = context;
  }

  /**
   * Puts references in `record` for its arguments kept in Redis: objects
   * stored before, results of this executor's tasks, and — when `encoded`
   * is over inlineLimit — each argument whose own encoding is.
   *
   * @param encode encodes the record as it is now.
   * @returns the record's encoding, the keys it pins and the writes its
   * entry needs first.
   * @throws {RangeError} For an argument over maxValueSize.
   */
  place(
    record: TaskRecord,
    encodeRecord: (record: TaskRecord) => string | Uint8Array,
  ): { encoded: string | Uint8Array; pins: string[]; writes: ValueWrite[] } {
    const refs: ArgRef[] = [];
    const writes: ValueWrite[] = [];
    // Arguments stored before (by object), and results kept in Redis.
    this.#each(record, (value, at) => {
      const ref = this.#known(value, writes);
      if (ref === undefined) return false;
      refs.push({ key: ref.key, size: ref.size, at });
      return true;
    });
    if (refs.length > 0) record.refs = refs;
    let encoded = encodeRecord(record);
    if (encodedOver(encoded, this.limits.inlineLimit)) {
      const before = refs.length;
      this.#each(record, (value, at) => {
        if (value === null || typeof value === "function") return false;
        const ref = this.#store(value, writes);
        if (ref === undefined) return false;
        refs.push({ key: ref.key, size: ref.size, at });
        return true;
      });
      if (refs.length > before) {
        record.refs = refs;
        encoded = encodeRecord(record);
      }
    }
    const pins = refs.map((ref) => ref.key);
    for (const key of pins) this.#pins.set(key, (this.#pins.get(key) ?? 0) + 1);
    return { encoded, pins, writes };
  }

  /** A task that pinned `keys` is settled. */
  unpin(keys: readonly string[]): void {
    for (const key of keys) {
      const left = (this.#pins.get(key) ?? 1) - 1;
      if (left > 0) {
        this.#pins.set(key, left);
        continue;
      }
      this.#pins.delete(key);
      if (this.#orphans.delete(key)) this.#doom(key);
    }
  }

  /** Writes are written: Redis has these values now. */
  written(writes: readonly ValueWrite[]): void {
    const now = performance.now();
    for (const { stored } of writes) {
      stored.epoch = this.#epoch;
      stored.writtenAt = now;
      stored.bytes = undefined;
    }
  }

  /** Redis came back without its data: every value is to be written again. */
  lost(): void {
    this.#epoch++;
  }

  /** A result a node stored: its future's value until it is read. */
  result(ref: ValueRef, chunk: boolean, fix: (value: unknown) => unknown) {
    const result = new StoredResult(this.#owner, ref, async () => {
      const engine = await this.#context.engine();
      const [bytes] = await engine.getValues([ref.key], this.limits.valueTtl);
      if (bytes === null) throw valueGone(ref);
      const value = decode<unknown>(bytes);
      return chunk ? fix(value) : value;
    });
    this.#results.set(ref.key, new WeakRef(result));
    this.#keys.add(ref.key);
    this.#gone.register(result, ref.key);
    return result;
  }

  /** A reply for a task no future waits for any more: its value goes. */
  drop(ref: ValueRef): void {
    this.#doom(ref.key);
  }

  /**
   * Reads every result not yet read whose future lives (so `result()` still
   * answers after shutdown), then deletes every key this executor stored.
   */
  async close(engine: Engine): Promise<void> {
    const unread = [...this.#results.values()]
      .map((ref) => ref.deref())
      .filter((result) => result !== undefined && !result.loaded);
    await Promise.allSettled(unread.map((result) => result!.value()));
    const keys = [...this.#keys];
    this.#keys.clear();
    this.#doomed.clear();
    for (let i = 0; i < keys.length; i += 1000) {
      await engine.drop(keys.slice(i, i + 1000));
    }
  }

  // Calls `visit` with each argument (each call's argument in a chunk) and
  // its place; where it returns true the argument becomes null.
  #each(
    record: TaskRecord,
    visit: (value: unknown, at: ArgRef["at"]) => boolean,
  ): void {
    if (record.chunk === 1) {
      const args = record.args = [...record.args];
      for (let column = 0; column < args.length; column++) {
        const items = args[column] as unknown[];
        let copied = false;
        for (let row = 0; row < items.length; row++) {
          const value = items[row];
          if (value === null || !visit(value, [column, row])) continue;
          if (!copied) {
            args[column] = [...items];
            copied = true;
          }
          (args[column] as unknown[])[row] = null;
        }
      }
      return;
    }
    // The caller's array is never written to: a copy, at the first ref.
    let own = false;
    const args = record.args;
    for (let i = 0; i < args.length; i++) {
      const value = args[i];
      if (value === null || !visit(value, [i])) continue;
      if (!own) {
        record.args = [...record.args];
        own = true;
      }
      record.args[i] = null;
    }
  }

  // A value Redis has (or will have, before the entry): an object stored
  // before, or a result of this executor's kept in Redis.
  #known(value: unknown, writes: ValueWrite[]): ValueRef | undefined {
    if (value instanceof StoredResult && value.owner === this.#owner) {
      return value.ref;
    }
    if (typeof value !== "object" || value === null) return undefined;
    const stored = this.#byObject.get(value);
    if (stored === undefined) return undefined;
    // Written in an older epoch, or its time-to-live may be running out:
    // written again, from the object in hand.
    const due = stored.epoch !== this.#epoch ||
      performance.now() - stored.writtenAt > this.limits.valueTtl / 3;
    if (due) {
      stored.bytes ??= encode(value);
      writes.push({ stored, bytes: stored.bytes });
    }
    return stored;
  }

  // Stores `value` if its encoding is over inlineLimit.
  #store(value: unknown, writes: ValueWrite[]): ValueRef | undefined {
    // A small typed array or string is known small without encoding it.
    if (
      typeof value === "string" &&
      value.length * 2 + 16 <= this.limits.inlineLimit
    ) return undefined;
    if (typeof value !== "object" && typeof value !== "string") {
      return undefined;
    }
    const bytes = encode(value);
    const size = bytes.byteLength;
    if (size <= this.limits.inlineLimit) return undefined;
    const { maxValueSize } = this.limits;
    if (size > maxValueSize) throw tooLarge("an argument", size, maxValueSize);
    const key = valueKey(this.#queue, this.#executorId, `a${this.#next++}`);
    const stored: Stored = { key, size, epoch: -1, writtenAt: 0, bytes };
    this.#keys.add(key);
    writes.push({ stored, bytes });
    if (typeof value === "object") {
      this.#byObject.set(value as object, stored);
      this.#gone.register(value as object, key);
    } else {
      // A string has no identity: its key goes with its task.
      this.#orphans.add(key);
    }
    return stored;
  }

  #orphan(key: string): void {
    if (this.#pins.has(key)) this.#orphans.add(key);
    else this.#doom(key);
  }

  // Deleted with the next chance: now if Redis is there.
  #doom(key: string): void {
    this.#doomed.add(key);
    if (this.#sweeping) return;
    this.#sweeping = true;
    queueMicrotask(() => {
      this.#sweeping = false;
      const engine = this.#context.engineNow();
      if (engine !== undefined) this.sweep(engine);
    });
  }

  /** Deletes the keys no future or task needs any more. */
  sweep(engine: Engine): void {
    if (this.#doomed.size === 0) return;
    const keys = [...this.#doomed];
    this.#doomed.clear();
    for (const key of keys) this.#keys.delete(key);
    engine.drop(keys).catch(() => {
      for (const key of keys) {
        this.#doomed.add(key);
        this.#keys.add(key);
      }
    });
  }
}
