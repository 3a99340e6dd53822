// The private message protocol between the pool (`_pool/`) and the worker
// side (`_worker/`). It imports nothing: the worker side is shipped to each
// worker as source text, so the constants travel as an argument of
// `workerMain` (see `PROTOCOL`).
//
// Data flow, over one private MessagePort per worker (a task's own
// `postMessage` goes to the Worker object, which the pool never reads):
//
//   pool                                   worker
//   ---- Init (on the Worker, carries the port) --->
//   ---- [RUN, task record, task record, ...] ----->   runs them in order
//   <--- [READY] or [INIT_FAILED, error] ----------     after the initializer
//   <--- [RESULTS, result record, ...] ------------     batched, in task order
//   <--- [FATAL, culprit id, reason] --------------     before the worker dies
//
// Records travel flat, so a batch of ten thousand tasks is one array of
// primitives and argument lists, not ten thousand objects: record k of a
// message starts at `1 + k * SIZE`, and its fields sit at the offsets below.

/** The fields of a task record in a RUN message. */
export const TASK = {
  /** The task's id, unique in its pool. */
  ID: 0,
  /** Its `FunctionSpec`, or the spec's id once the worker has it. */
  FN: 1,
  /** Its arguments (for a chunk, one argument list per call). */
  ARGS: 2,
  /** 1 for a `map` chunk, else 0. */
  CHUNK: 3,
  SIZE: 4,
} as const;

/** The fields of a result record in a RESULTS message. */
export const RESULT = {
  /** The task's id. */
  ID: 0,
  /**
   * OK, ERROR, CHUNK or PROGRESS; a `StatusMark` when the value may run
   * code.
   */
  STATUS: 1,
  /** The value, an `ErrorRecord`/`RawThrow`, or a `ChunkRecord`. */
  VALUE: 2,
  /** How long the task ran in the worker, in ms. */
  MS: 3,
  SIZE: 4,
} as const;

/** Message kinds and result statuses, shared by both sides. */
export const PROTOCOL = {
  RUN: 0,
  READY: 1,
  INIT_FAILED: 2,
  RESULTS: 3,
  /** [FATAL, the id of the task that killed the worker or -1, reason]. */
  FATAL: 4,
  /** Result status: the value. */
  OK: 0,
  /** Result status: a thrown error, as an `ErrorRecord` or `RawThrow`. */
  ERROR: 1,
  /** Result status: a chunk's values, and its error if one failed. */
  CHUNK: 2,
  /**
   * Not an outcome: a progress value of a running task (`reportProgress`),
   * sent before the task's outcome, in the order reported.
   */
  PROGRESS: 3,
  TASK,
  RESULT,
  /** The key of a result that asks to transfer, not copy, its buffers. */
  TRANSFER_KEY: "@concurrent/futures:transfer",
} as const;

/** The constants' type, for the worker side that receives them. */
export type Protocol = typeof PROTOCOL;

/**
 * The status of a result whose value is an object: cloning it may run the
 * task's code (a getter), which may throw or end the worker. The mark is
 * cloned just before the value and its getter tells the worker whose value
 * is being cloned, so such a fault is blamed on that task alone.
 */
export interface StatusMark {
  status: number;
}

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
  /**
   * The pool's permissions are scoped: close what a worker could reach
   * without a permission check (storage, channels, stdin, signals).
   */
  scoped?: boolean;
  /**
   * Start tasks from node's `process.nextTick`, never from a message handler
   * or a promise job: on Deno 2.9.6 a node:worker_threads Worker that
   * reaches its heap limit reports ERR_WORKER_OUT_OF_MEMORY from a timer,
   * setImmediate or nextTick callback, and elsewhere freezes without a word.
   */
  timerPump?: boolean;
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
