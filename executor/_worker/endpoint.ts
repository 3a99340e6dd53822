// Inside a worker: how it reaches its pool. A Web Worker gets a private
// MessagePort in its first message; a process child, framed messages on its
// stdio (_process/child.ts); a node:worker_threads thread, its parent port
// (_thread/node_spawn.ts). Types only: nothing here is shipped.
import type { FromWorker, InitMessage, ToWorker } from "../_wire/protocol.ts";

/** The part of a `MessagePort` the worker side talks through. */
export interface Endpoint {
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
}

/** Connects a worker to its pool: gives `start` the endpoint and init. */
export type Connect = (
  start: (endpoint: Endpoint, init: InitMessage) => void,
) => void;
