// Both sides: a task's outcome as a `ResultReply`, made on the node and
// read by the executor, side by side so the rule cannot drift. Errors travel
// as records (`toRecord`/`fromRecord`); those the node's side made — its
// pool's timeout, a worker's death, its own maxTaskTime — are marked with a
// `Fault`, named after the node, and rebuilt as this library's classes.
import { BrokenExecutorError, TimeoutError } from "../../../future/errors.ts";
import { fromRecord, toRecord } from "../../_wire/error_record.ts";
import type {
  ChunkRecord,
  ErrorRecord,
  RawThrow,
} from "../../_wire/protocol.ts";
import type { ChunkOutcome } from "../../executor.ts";
import type { Fault, ResultReply } from "./records.ts";

/** What a task came to: its value, or the error its future fails with. */
export type Outcome =
  | { ok: true; value: unknown }
  | { ok: false; error: unknown };

/**
 * The reply for a task's outcome, on the node.
 *
 * @param nodeLimit the node's maxTaskTime, when it was shorter than the
 * task's own timeout: a timeout then names it.
 */
export function toResultReply(
  taskId: number,
  nodeId: string,
  chunk: 0 | 1,
  outcome: Outcome,
  nodeLimit?: number,
): ResultReply {
  if (outcome.ok) {
    let value = outcome.value;
    if (chunk === 1) {
      const { values, error } = value as ChunkOutcome;
      value = error === undefined
        ? { values }
        : { values, error: toRecord(error) };
    }
    return { kind: "result", taskId, nodeId, ok: true, value };
  }
  const error = outcome.error;
  const fault: Fault | undefined = error instanceof TimeoutError
    ? "TimeoutError"
    : error instanceof BrokenExecutorError
    ? "BrokenExecutorError"
    : undefined;
  const record = toRecord(error);
  if (fault === "TimeoutError" && nodeLimit !== undefined && record.error) {
    record.message =
      `The task ran past node ${nodeId}'s maxTaskTime of ${nodeLimit} ms, which bounds every task it runs: it was stopped`;
  } else if (fault !== undefined && record.error) {
    record.message = `${record.message} (on node ${nodeId})`;
  }
  return { kind: "result", taskId, nodeId, ok: false, error: record, fault };
}

/** A reply's outcome, on the executor: what its future settles with. */
export function fromResultReply(reply: ResultReply, chunk: boolean): Outcome {
  if (!reply.ok) return { ok: false, error: rebuild(reply.error, reply.fault) };
  return { ok: true, value: chunk ? fixChunk(reply.value) : reply.value };
}

/** A chunk's outcome as it travelled: its error record rebuilt. */
export function fixChunk(value: unknown): unknown {
  const record = value as ChunkRecord;
  if (record.error !== undefined) {
    (record as { error: unknown }).error = fromRecord(record.error);
  }
  return record;
}

const FAULTS: Record<Fault, new (message: string) => Error> = {
  TimeoutError,
  BrokenExecutorError,
};

// A task's own error as fromRecord rebuilds it; one the node's side made as
// this library's class, with the node's stack and cause.
function rebuild(record: ErrorRecord | RawThrow, fault?: Fault): unknown {
  const error = fromRecord(record);
  if (fault === undefined || !record.error) return error;
  const rebuilt = new FAULTS[fault](record.message);
  Object.defineProperty(rebuilt, "stack", {
    value: (error as Error).stack,
    writable: true,
    configurable: true,
  });
  if ((error as Error).cause !== undefined) {
    rebuilt.cause = (error as Error).cause;
  }
  return rebuilt;
}
