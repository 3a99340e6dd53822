// Runs on the pool side: the private MessagePort between the pool and a
// thread worker (either kind). A task's own postMessage reaches the Worker
// object, which nobody reads; only the worker side holds the other end.
import type { WorkerEvents, WorkerHandle } from "../_pool/transport.ts";

/** The pool's end of a worker's channel, and the end to give the worker. */
export interface PrivateChannel {
  /** Transfer it to the worker in its init message. */
  workerPort: MessagePort;
  send: WorkerHandle["send"];
  close(): void;
}

/** Opens a channel whose messages go to `events.message`. */
export function privateChannel(events: WorkerEvents): PrivateChannel {
  const { port1, port2 } = new MessageChannel();
  port1.onmessage = (event) => events.message(event.data);
  return {
    workerPort: port2,
    // Without a transfer list when there is none: an empty one costs
    // ~0.8 µs a message.
    send: (message, transfer) =>
      transfer.length === 0
        ? port1.postMessage(message)
        : port1.postMessage(message, transfer),
    close: () => port1.close(),
  };
}
