// The executor side: one submitted task, from its submit until its future
// is done, and how its record is written.
import type { Future } from "../../../future/future.ts";
import type { Fields } from "../_engine/engine.ts";
import { explainClone } from "../../_base/graph.ts";
import { encodeText } from "../_wire/codec.ts";
import type { TaskRecord } from "../_wire/records.ts";
import { FIELD } from "../_wire/streams.ts";
import type { ValueWrite } from "./stored_values.ts";

/** One submitted task, until its future is done. */
export class RemoteTask {
  readonly submittedAt: number = performance.now();
  /** Its stream entries (two if a send was retried after a lost reply). */
  readonly entryIds: string[] = [];
  /** The entry's fields: the record, and the lease the claim script reads. */
  readonly fields: Fields;
  /** The link generation its entry was written in. */
  generation = -1;
  /** The node that reported its start last. */
  nodeId: string | undefined;
  /** Settled with a value (set just before its future is). */
  ok = false;
  /** performance.now() at its start, as the node's replies tell it. */
  startedAt = 0;
  /** Clears the timer that fails it if it cannot be sent in time. */
  timer: (() => void) | undefined;
  unwatch: (() => void) | undefined;
  /** The keys of the values in Redis it refers to, until it is settled. */
  pins: string[] = [];
  /** Values its entry needs written first, until they are. */
  writes: ValueWrite[] = [];
  /**
   * ms, watched, with no live node that could take it; and when it was
   * last watched (performance.now()).
   */
  unroutableMs = 0;
  watchedAt: number = this.submittedAt;

  /**
   * @param stream the task stream it goes to (its labels').
   * @param labels the labels a node must have to run it.
   * @param encoded its record, encoded (`encodeTask`).
   */
  constructor(
    readonly id: number,
    readonly future: Future<unknown>,
    readonly chunk: boolean,
    readonly stream: string,
    readonly labels: readonly string[],
    encoded: string | Uint8Array,
    lease: number,
  ) {
    this.fields = {
      [FIELD.TASK]: encoded,
      [FIELD.LEASE]: String(lease),
    };
  }

  /** Fails its future, unless it is done. */
  fail(error: unknown): void {
    if (!this.future.done()) this.future.setException(error);
  }
}

/**
 * A task's record as its entry carries it (`encodeText`: JSON as text).
 *
 * @throws {DOMException} `DataCloneError` for a record node:v8 cannot
 * serialize.
 */
export function encodeTask(record: TaskRecord): string | Uint8Array {
  try {
    return encodeText(record);
  } catch (error) {
    // node:v8 throws a plain Error; the pools' callers expect this name.
    const cause = (error as Error).cause as Error | undefined;
    throw explainClone(
      new DOMException(
        `Cannot submit to RedisExecutor: ${cause?.message ?? error}`,
        "DataCloneError",
      ),
      record.args,
    );
  }
}
