// Inside a worker: runs the tasks the pool sent, in order, one at a time;
// synchronous ones back to back, an asynchronous one to its end before the
// next. Self-contained: shipped to workers as source text.
import type {
  ChunkRecord,
  ErrorRecord,
  FunctionSpec,
  Protocol,
  RawThrow,
} from "../_protocol.ts";
import type { Fn, Functions } from "./functions.ts";
import type { Outbox } from "./outbox.ts";

/** The worker's task loop. */
export interface TaskLoop {
  /** Queues the task records of a RUN message. */
  receive(message: unknown[]): void;
  /** Starts running tasks (once the initializer is done). */
  start(): void;
  /** The id of the task running now, or -1. */
  readonly running: number;
}

/**
 * Makes the task loop of a worker.
 *
 * @param P The protocol constants.
 * @param functions Where tasks' functions come from.
 * @param outbox Where outcomes go.
 * @param toRecord Turns a thrown value into a record.
 */
export function makeTaskLoop(
  P: Protocol,
  functions: Functions,
  outbox: Outbox,
  toRecord: (error: unknown) => ErrorRecord | RawThrow,
): TaskLoop {
  const T = P.TASK;
  // Task records in the flat form of `_protocol.ts`, from `head` on.
  let queue: unknown[] = [];
  let head = 0;
  let running = -1;
  let busy = false;
  let ready = false;
  // When the running task started.
  let startedAt = 0;

  const isThenable = (value: unknown): value is PromiseLike<unknown> =>
    value !== null &&
    (typeof value === "object" || typeof value === "function") &&
    typeof (value as PromiseLike<unknown>).then === "function";

  // A task's error, explained where it can be, as a record.
  function failure(
    error: unknown,
    spec: number | FunctionSpec,
  ): ErrorRecord | RawThrow {
    try {
      functions.explain(error, spec);
    } catch {
      // A frozen or hostile error keeps its own message.
    }
    return toRecord(error);
  }

  // Runs one chunk of calls, stopping at the first error.
  async function runChunk(fn: Fn, calls: unknown[][]): Promise<ChunkRecord> {
    const values: unknown[] = [];
    for (const args of calls) {
      try {
        let value = fn(...args);
        if (isThenable(value)) value = await value;
        values.push(value);
      } catch (error) {
        return { values, error: toRecord(error) };
      }
    }
    return { values };
  }

  function settle(id: number, status: number, value: unknown): void {
    outbox.settle(id, status, value, performance.now() - startedAt);
  }

  function onSettled(id: number, status: number, value: unknown): void {
    settle(id, status, value);
    running = -1;
    pump();
  }

  // Runs queued tasks until one is asynchronous or the queue is empty.
  function pump(): void {
    busy = true;
    while (head < queue.length && !outbox.dead) {
      const id = queue[head + T.ID] as number;
      const spec = queue[head + T.FN] as number | FunctionSpec;
      const args = queue[head + T.ARGS] as unknown[];
      const chunk = queue[head + T.CHUNK] === 1;
      queue[head + T.ARGS] = undefined;
      head += T.SIZE;
      startedAt = performance.now();
      if (outbox.due(startedAt)) outbox.flush();
      running = id;
      let value: unknown;
      try {
        const fn = functions.resolve(spec);
        if (chunk) {
          value = isThenable(fn)
            ? fn.then((f) => runChunk(f, args as unknown[][]))
            : runChunk(fn, args as unknown[][]);
        } else {
          value = isThenable(fn) ? fn.then((f) => f(...args)) : fn(...args);
        }
      } catch (error) {
        settle(id, P.ERROR, failure(error, spec));
        continue;
      }
      if (isThenable(value)) {
        // Waiting on the task: send what is done, come back when it settles.
        outbox.flush();
        const status = chunk ? P.CHUNK : P.OK;
        Promise.resolve(value).then(
          (v) => onSettled(id, status, v),
          (error) => onSettled(id, P.ERROR, failure(error, spec)),
        );
        return;
      }
      settle(id, P.OK, value);
    }
    running = -1;
    busy = false;
    queue = [];
    head = 0;
    outbox.flush();
  }

  return {
    receive(message) {
      for (let i = 1; i < message.length; i++) queue.push(message[i]);
      if (!busy && ready) pump();
    },
    start() {
      ready = true;
      pump();
    },
    get running() {
      return running;
    },
  };
}
