// The private message protocol between the pool (`_pool.ts`) and the worker
// side (`_worker.ts`). It imports nothing: the worker side is shipped to each
// worker as source text, so the constants travel as an argument of
// `workerMain` (see `PROTOCOL`).
//
// Data flow, over one private MessagePort per worker (a task's own
// `postMessage` goes to the Worker object, which the pool never reads):
//
//   pool                                   worker
//   ---- Init (on the Worker, carries the port) --->
//   ---- [RUN, id, fn, args, chunk, id, ...] ------>   runs them in order
//   <--- [READY] or [INIT_FAILED, error] ----------     after the initializer
//   <--- [RESULTS, id, status, value, ms, id, ...] -   batched, in task order
//   <--- [FATAL, runningId, reason] ---------------     before the worker dies

/**
 * Tasks travel flat, `TASK_FIELDS` values each, so a batch of ten thousand
 * is one array of primitives and argument lists, not ten thousand objects:
 * the task's id; its function (the id alone once the worker has its
 * `FunctionSpec`); its arguments (for a chunk, one argument list per call);
 * and 1 for a `map` chunk, else 0.
 */
export const TASK_FIELDS = 4;

/** Message kinds and result statuses, shared by both sides. */
export const PROTOCOL = {
  RUN: 0,
  READY: 1,
  INIT_FAILED: 2,
  RESULTS: 3,
  FATAL: 4,
  /** Result status: the value. */
  OK: 0,
  /** Result status: a thrown error, as an `ErrorRecord` or `RawThrow`. */
  ERROR: 1,
  /** Result status: a chunk's values, and its error if one failed. */
  CHUNK: 2,
  TASK_FIELDS,
  /** Values per result in a RESULTS message: id, status, value, run ms. */
  RESULT_FIELDS: 4,
  /** The key of a result that asks to transfer, not copy, its buffers. */
  TRANSFER_KEY: "@concurrent/futures:transfer",
} as const;

/** The constants' type, for the worker side that receives them. */
export type Protocol = typeof PROTOCOL;

/** How a worker finds a task's function. */
export interface FunctionSpec {
  /** Unique per function in this pool; the worker caches by it. */
  id: number;
  /** The function's source, sent only the first time a worker sees `id`. */
  source?: string;
  /** A module URL, for `fromModule` tasks. */
  module?: string;
  /** The export's name, for `fromModule` tasks. */
  name?: string;
}

/** The first message, sent on the Worker object itself. */
export interface InitMessage {
  port: MessagePort;
  initializer?: FunctionSpec;
  initargs?: unknown[];
}

/** An error as it crosses the boundary: rebuilt by the pool. */
export interface ErrorRecord {
  error: true;
  name: string;
  message: string;
  stack?: string;
  cause?: unknown;
  /** Set when `cause` holds an `ErrorRecord`. */
  causeIsError?: true;
  /** Whether the original was a `DOMException`. */
  dom?: true;
}

/** Something thrown that is not an `Error` (`throw 42`). */
export interface RawThrow {
  error: false;
  value: unknown;
}

/** A chunk's outcome: its values, and the error that stopped it, if any. */
export interface ChunkRecord {
  values: unknown[];
  error?: ErrorRecord | RawThrow;
}

/** Pool to worker. */
export type ToWorker = [typeof PROTOCOL.RUN, ...unknown[]];

/** Worker to pool. */
export type FromWorker =
  | [typeof PROTOCOL.READY]
  | [typeof PROTOCOL.INIT_FAILED, ErrorRecord | RawThrow]
  | [typeof PROTOCOL.RESULTS, ...unknown[]]
  | [typeof PROTOCOL.FATAL, number, string];
