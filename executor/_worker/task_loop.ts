// Inside a worker: runs the tasks the pool sent, in order, one at a time;
// synchronous ones back to back, an asynchronous one to its end before the
// next. Self-contained: shipped to workers as source text.
import type {
  ChunkRecord,
  ErrorRecord,
  FunctionSpec,
  Protocol,
  RawThrow,
} from "../_wire/protocol.ts";
import type { Fn, Functions } from "./functions.ts";
import type { Outbox } from "./outbox.ts";
import type { ProgressReporter } from "./progress.ts";

/** The worker's task loop. */
export class TaskLoop {
  readonly #P: Protocol;
  readonly #functions: Functions;
  readonly #outbox: Outbox;
  readonly #progress: ProgressReporter;
  readonly #toRecord: (error: unknown) => ErrorRecord | RawThrow;
  // Task records in the flat form of `_wire/protocol.ts`, from #head on.
  #queue: unknown[] = [];
  #head = 0;
  // The id of the task running now, or -1.
  #running = -1;
  // #pump is running, or waits for an asynchronous task.
  #busy = false;
  // The initializer is done: tasks may run.
  #ready = false;
  // When the running task started.
  #startedAt = 0;
  // When the last task settled, if it was in this pump: the next one's
  // start (performance.now() costs about 0.15 µs, a tiny task less).
  #settledAt: number | undefined;
  // Tasks run from process.nextTick (see InitMessage.timerPump).
  #timerPump = false;

  /**
   * @param P The protocol constants.
   * @param functions Where tasks' functions come from.
   * @param outbox Where outcomes go.
   * @param progress Where reported progress goes.
   * @param toRecord Turns a thrown value into a record.
   */
  constructor(
    P: Protocol,
    functions: Functions,
    outbox: Outbox,
    progress: ProgressReporter,
    toRecord: (error: unknown) => ErrorRecord | RawThrow,
  ) {
    this.#P = P;
    this.#functions = functions;
    this.#outbox = outbox;
    this.#progress = progress;
    this.#toRecord = toRecord;
  }

  /** The id of the task running now, or -1. */
  get running(): number {
    return this.#running;
  }

  /** Queues the task records of a RUN message. */
  receive(message: unknown[]): void {
    for (let i = 1; i < message.length; i++) this.#queue.push(message[i]);
    if (!this.#busy && this.#ready) this.#schedule();
  }

  /**
   * Starts running tasks (once the initializer is done).
   *
   * @param timerPump Run them from a timer callback only.
   */
  start(timerPump = false): void {
    this.#ready = true;
    this.#timerPump = timerPump;
    this.#schedule();
  }

  // Runs the queue now, or from node's nextTick queue (where, unlike in a
  // message handler, Deno reports an out-of-memory: see InitMessage).
  #schedule(): void {
    if (!this.#timerPump) return this.#pump();
    this.#busy = true;
    (globalThis as unknown as {
      process: { nextTick(fn: () => void): void };
    }).process.nextTick(() => this.#pump());
  }

  // Runs queued tasks until one is asynchronous or the queue is empty.
  #pump(): void {
    const P = this.#P, T = P.TASK, queue = this.#queue, outbox = this.#outbox;
    this.#busy = true;
    while (this.#head < queue.length && !outbox.dead) {
      const head = this.#head;
      const id = queue[head + T.ID] as number;
      const spec = queue[head + T.FN] as number | FunctionSpec;
      const args = queue[head + T.ARGS] as unknown[];
      const chunk = queue[head + T.CHUNK] === 1;
      queue[head + T.ARGS] = undefined;
      this.#head += T.SIZE;
      const now = this.#settledAt ?? performance.now();
      this.#startedAt = now;
      if (outbox.due(now)) outbox.flush(now);
      this.#running = id;
      let value: unknown;
      try {
        value = this.#call(spec, args, chunk);
      } catch (error) {
        this.#settle(id, P.ERROR, this.#failure(error, spec));
        continue;
      }
      if (TaskLoop.#isThenable(value)) {
        // Waiting on the task: send what is done, come back when it settles.
        outbox.flush(this.#settledAt);
        this.#settledAt = undefined;
        const status = chunk ? P.CHUNK : P.OK;
        Promise.resolve(value).then(
          (v) => this.#onSettled(id, status, v),
          (error) => this.#onSettled(id, P.ERROR, this.#failure(error, spec)),
        );
        return;
      }
      this.#settle(id, chunk ? P.CHUNK : P.OK, value);
    }
    this.#running = -1;
    this.#busy = false;
    this.#queue = [];
    this.#head = 0;
    outbox.flush(this.#settledAt);
    this.#settledAt = undefined;
  }

  // Starts a task: its value, or a promise of it.
  #call(spec: number | FunctionSpec, args: unknown[], chunk: boolean): unknown {
    const fn = this.#functions.resolve(spec);
    if (chunk) {
      const columns = args as unknown[][];
      return fn instanceof Promise
        ? fn.then((f) => this.#runChunk(f, columns, 0, []))
        : this.#runChunk(fn, columns, 0, []);
    }
    return fn instanceof Promise ? fn.then((f) => f(...args)) : fn(...args);
  }

  // Runs a chunk's calls from `from` on (its arguments as columns, one array
  // per parameter), stopping at the first error: synchronously while calls
  // return values, asynchronously from the first that returns a promise.
  #runChunk(
    fn: Fn,
    columns: unknown[][],
    from: number,
    values: unknown[],
  ): ChunkRecord | Promise<ChunkRecord> {
    const [a, b] = columns, width = columns.length, count = a.length;
    for (let i = from; i < count; i++) {
      let value: unknown;
      try {
        value = width === 1
          ? fn(a[i])
          : width === 2
          ? fn(a[i], b[i])
          : fn(...columns.map((column) => column[i]));
      } catch (error) {
        return { values, error: this.#toRecord(error) };
      }
      if (TaskLoop.#isThenable(value)) {
        return Promise.resolve(value).then(
          (v) => {
            values.push(v);
            return this.#runChunk(fn, columns, i + 1, values);
          },
          (error) => ({ values, error: this.#toRecord(error) }),
        );
      }
      values.push(value);
    }
    return { values };
  }

  #settle(id: number, status: number, value: unknown): void {
    this.#progress.finish(id);
    const now = this.#settledAt = performance.now();
    this.#outbox.settle(id, status, value, now - this.#startedAt);
  }

  #onSettled(id: number, status: number, value: unknown): void {
    this.#settle(id, status, value);
    this.#running = -1;
    this.#schedule();
  }

  // A task's error, explained where it can be, as a record.
  #failure(
    error: unknown,
    spec: number | FunctionSpec,
  ): ErrorRecord | RawThrow {
    try {
      this.#functions.explain(error, spec);
    } catch {
      // A frozen or hostile error keeps its own message.
    }
    return this.#toRecord(error);
  }

  static #isThenable(value: unknown): value is PromiseLike<unknown> {
    return value !== null &&
      (typeof value === "object" || typeof value === "function") &&
      typeof (value as PromiseLike<unknown>).then === "function";
  }
}
