// The pool's view of a worker, whatever it is (a thread: _thread/spawn.ts,
// a process: _process/spawn.ts): start one, send it messages, hear from it,
// stop it.
import type { FromWorker, FunctionSpec, ToWorker } from "../_wire/protocol.ts";

/** The pool's handle on one worker. */
export interface WorkerHandle {
  /** Sends a message; throws `DataCloneError` when it cannot be cloned. */
  send(message: ToWorker, transfer: Transferable[]): void;
  /**
   * Stops the worker now; no event follows. The promise, if any, settles
   * once it is gone (a process has exited).
   */
  terminate(): void | Promise<void>;
}

/** What a worker reports to the pool. */
export interface WorkerEvents {
  /** A protocol message from the worker. */
  message(message: FromWorker): void;
  /** The worker died without a word (an uncaught error, a crashed process). */
  died(reason: string): void;
}

/** What a new worker is told. */
export interface WorkerInit {
  name: string;
  initializer?: FunctionSpec;
  initargs?: unknown[];
}

/** Starts one worker; throws if none can start. */
export type SpawnWorker = (
  init: WorkerInit,
  events: WorkerEvents,
) => WorkerHandle;
