/**
 * `RedisExecutor`: an executor whose tasks run on `RedisNode`s, anywhere
 * that can reach one Redis, through a Redis Streams consumer group.
 *
 * @module
 */
import type { Future } from "../../future/future.ts";
import { ShutdownError } from "../../future/errors.ts";
import {
  type ChunkOutcome,
  Executor,
  type RunOptions,
  type ShutdownOptions,
  type Task,
} from "../executor.ts";
import { functionName, functionSpec } from "../_base/function_spec.ts";
import { checkKnownOptions } from "../_base/options.ts";
import { checkRun, mustHold } from "../_base/run_options.ts";
import { deferredOf } from "../_base/deferred.ts";
import type { FutureArgs } from "../_base/graph.ts";
import {
  checkBytes,
  checkConnection,
  checkMs,
  checkPositive,
  checkWait,
  type Connection,
} from "./_options.ts";
import { registerDashboardSource } from "../../dashboard/register_dashboard_source.ts";
import { QueueSource } from "./_dashboard/queue_source.ts";
import { checkLabels } from "../_base/labels.ts";
import { Submitter } from "./_executor/submitter.ts";
import type { TaskFunction } from "./_wire/records.ts";
import { MAX_VALUE_SIZE, VALUE_LIMITS } from "./_wire/values.ts";
import type { RedisExecutorStats } from "./redis_executor_stats.ts";

/** Options of {@linkcode RedisExecutor}. */
export interface RedisExecutorOptions {
  /**
   * The Redis server: `redis://[user:password@]host[:port][/db]`, or
   * `rediss://` for TLS.
   *
   * @default {"redis://127.0.0.1:6379"}
   */
  url?: string;
  /**
   * The queue: its task stream's key. Nodes of the same queue run its
   * tasks.
   *
   * @default {"concurrent-futures"}
   */
  queue?: string;
  /**
   * Deliveries of a task to nodes that died under it; at the next one the
   * task fails with `BrokenExecutorError` instead of running again. A
   * task's own error is never retried.
   *
   * @default {3}
   */
  maxAttempts?: number;
  /**
   * Milliseconds a node that has gone silent holds a task before another
   * node may take it. A live node extends the lease of what it runs, so a
   * task longer than its lease is not taken twice.
   *
   * @default {30000}
   */
  lease?: number;
  /**
   * The most tasks of this executor that no node has started; past it,
   * `submit` throws a `RangeError`.
   *
   * @default {Infinity}
   */
  maxQueued?: number;
  /**
   * Milliseconds Redis may be unreachable (at the first connection, or in
   * an outage) before the futures waiting on it fail with
   * `BrokenExecutorError`.
   *
   * @default {10000}
   */
  connectTimeout?: number;
  /**
   * Milliseconds a queued task waits while no live node could take it —
   * no node serves the queue at all (a mistyped name, none started) — before
   * it fails with `BrokenExecutorError` naming the queue; `Infinity` waits
   * for ever. Nodes that are merely busy do not count.
   *
   * @default {60000}
   */
  unroutableTimeout?: number;
  /**
   * Bytes: an argument or result whose `node:v8` encoding is larger is not
   * put in the task's entry or reply but stored once under a key of its
   * own, and read where it is needed (an object given to many tasks is
   * stored once; a result is read on its first `result()`, or by the node
   * of a task it is passed to). `Infinity` keeps everything inline.
   *
   * @default {65536}
   */
  inlineLimit?: number;
  /**
   * Milliseconds a stored value lives in Redis unread (each read renews
   * it): the backstop that removes what a submitter that died stored.
   * `shutdown()` deletes this executor's values itself.
   *
   * @default {3600000}
   */
  valueTtl?: number;
  /**
   * Bytes: a value whose encoding is larger fails its task with a
   * `RangeError` naming this option (at submit, for an argument). At most
   * 512 MiB, Redis's own limit.
   *
   * @default {268435456}
   */
  maxValueSize?: number;
}

const OWNER = "RedisExecutor";
const OPTIONS = [
  "url",
  "queue",
  "maxAttempts",
  "lease",
  "maxQueued",
  "connectTimeout",
  "unroutableTimeout",
  "inlineLimit",
  "valueTtl",
  "maxValueSize",
] as const;

/**
 * Runs tasks on `RedisNode`s through Redis Streams: the same futures,
 * `submit`, `map`, `shutdown` and `await using` as the pools, with the work
 * spread over every machine whose nodes read the queue.
 *
 * Tasks are self-contained functions (their source travels) or
 * `fromModule` tasks whose URL the nodes can import and admit
 * (`allowModules`). Arguments and results keep structured-clone fidelity;
 * errors keep `name`, `message`, the node's `stack` and `cause`. Delivery is
 * at least once: a task whose node died runs again elsewhere, so tasks with
 * side effects must be idempotent.
 *
 * @example Submit to the nodes of a queue
 * ```ts ignore
 * import { RedisExecutor } from "jsr:@concurrent/futures/redis";
 *
 * await using cluster = new RedisExecutor({
 *   url: "redis://127.0.0.1:6379",
 *   queue: "primes",
 * });
 * const future = cluster.submit((a: number, b: number) => a + b, 1, 2);
 * console.log(await future.result()); // 3, computed on some node
 * ```
 */
export class RedisExecutor extends Executor {
  // serveDashboard(executor) shows its whole queue, read from Redis.
  static {
    registerDashboardSource(
      RedisExecutor,
      (executor) => new QueueSource(executor.#connection),
    );
  }

  readonly #connection: Connection;
  readonly #submitter: Submitter;
  readonly #maxQueued: number;
  #shutdown = false;
  #closed: Promise<void> | undefined;

  /**
   * Makes an executor and starts connecting; tasks submitted before the
   * connection is up wait for it (at most `connectTimeout`).
   *
   * @param options The Redis, the queue and the delivery rules.
   * @throws {TypeError} For an unknown option, a value of the wrong type, or
   * a `url` that is not a redis:// or rediss:// URL.
   * @throws {RangeError} For a number out of range.
   */
  constructor(options: RedisExecutorOptions = {}) {
    super();
    checkKnownOptions(options, OWNER, OPTIONS);
    const {
      maxAttempts = 3,
      lease = 30_000,
      maxQueued = Infinity,
      unroutableTimeout = 60_000,
      inlineLimit = VALUE_LIMITS.inlineLimit,
      valueTtl = VALUE_LIMITS.valueTtl,
      maxValueSize = VALUE_LIMITS.maxValueSize,
    } = options;
    this.#maxQueued = checkPositive(maxQueued, OWNER, "maxQueued", true);
    this.#connection = checkConnection(options, OWNER);
    this.#submitter = new Submitter({
      ...this.#connection,
      maxAttempts: checkPositive(maxAttempts, OWNER, "maxAttempts", false),
      lease: checkMs(lease, OWNER, "lease"),
      unroutableTimeout: checkWait(
        unroutableTimeout,
        OWNER,
        "unroutableTimeout",
      ),
      values: {
        inlineLimit: checkBytes(inlineLimit, OWNER, "inlineLimit", Infinity),
        valueTtl: Math.ceil(checkMs(valueTtl, OWNER, "valueTtl")),
        maxValueSize: checkBytes(
          maxValueSize,
          OWNER,
          "maxValueSize",
          MAX_VALUE_SIZE,
        ),
      },
    }, this);
  }

  /** This executor's id: nodes answer on `<queue>:replies:<id>`. */
  get id(): string {
    return this.#submitter.id;
  }

  /**
   * Queues `fn(...args)` for a node, with per-task options.
   *
   * @typeParam A The task's parameters.
   * @typeParam R The task's return type.
   * @param fn A self-contained function or a `fromModule` task.
   * @param args Its arguments, serialized with node:v8 (`transfer` copies).
   * @param options `timeout` (from the task's start on its node, enforced
   * there) and `signal` (cancels a pending task; stops a running one on its
   * node and fails its future with `signal.reason` at once).
   * @returns The task's future: `running` once a node reports the start.
   * @throws {ShutdownError} After `shutdown()`.
   * @throws {RangeError} When `maxQueued` tasks are waiting for a node.
   * @throws {TypeError} For something that is not a task, or bad options.
   * @throws {DOMException} `DataCloneError` for arguments that cannot be
   * serialized.
   *
   * @example A task with a timeout
   * ```ts ignore
   * import { RedisExecutor } from "jsr:@concurrent/futures/redis";
   *
   * await using cluster = new RedisExecutor();
   * const slow = cluster.run(() => new Promise(() => {}), [], { timeout: 1000 });
   * await slow.exception(); // TimeoutError: the node stopped it
   * ```
   */
  run<A extends unknown[], R>(
    fn: Task<A, R>,
    args: NoInfer<FutureArgs<A>>,
    options?: RunOptions,
  ): Future<Awaited<R>> {
    const task = this.#check(fn);
    const policy = checkRun(args, options);
    const { timeout, signal } = options ?? {};
    const labels = options?.labels === undefined
      ? undefined
      : checkLabels(options.labels, OWNER, true, "submit");
    const submit = { timeout, signal, labels };
    if (!mustHold(args, policy)) {
      return this.#submitter.submit(task, args, 0, submit) as Future<
        Awaited<R>
      >;
    }
    // Written to Redis only once its futures are done (a waiting task has
    // no entry), again after a failure as its policy allows.
    return deferredOf(this).run(
      args,
      { policy, signal },
      (values, attempt) =>
        this.#submitter.submit(task, values, 0, submit, attempt),
    );
  }

  /**
   * Sends a chunk of `map` calls to one node as one task.
   *
   * @param fn The task.
   * @param columns The chunk's arguments, one array per parameter.
   * @param held Whether the executor held the chunk (then it runs after
   * shutdown too).
   * @returns The future of the chunk's outcome.
   */
  protected override runChunk(
    fn: Task,
    columns: unknown[][],
    held = false,
    labels: readonly string[] = [],
  ): Future<ChunkOutcome> {
    const task = this.#check(fn, held);
    return this.#submitter.submit(task, columns, 1, { labels }) as Future<
      ChunkOutcome
    >;
  }

  /** Labels route its tasks to the nodes that have them. */
  protected override get routesByLabel(): boolean {
    return true;
  }

  #check(fn: unknown, held = false): TaskFunction {
    if (this.#shutdown && !held) {
      throw new ShutdownError(`Cannot submit to ${OWNER} after shutdown()`);
    }
    const spec = functionSpec(fn, "submit");
    if (this.#submitter.queued >= this.#maxQueued) {
      throw new RangeError(
        `Cannot submit to ${OWNER} as 'maxQueued' is ${this.#maxQueued}: that many tasks wait for a node; wait for some to start, or raise 'maxQueued'`,
      );
    }
    // The spec's id is local to this process: only the function travels.
    return spec.source !== undefined
      ? { source: spec.source, name: functionName(spec) }
      : { module: spec.module!, name: spec.name! };
  }

  /**
   * A snapshot of this executor's tasks: queued (no node started them),
   * running, settled, their run and wait times, and the workers of the
   * queue's live nodes. Cheap enough to call every 100 ms (it reads the
   * nodes from Redis at most once a second, in the background, and returns
   * what it last read: 0 workers until the first read is back); memory stays
   * bounded however many tasks run.
   *
   * `busy` counts this executor's running tasks (another executor's tasks on
   * the same nodes are not seen); `utilization` is their run time over the
   * live nodes' worker-time since this executor was made.
   *
   * @returns The snapshot.
   *
   * @example Watch a queue
   * ```ts ignore
   * import { RedisExecutor } from "jsr:@concurrent/futures/redis";
   *
   * await using cluster = new RedisExecutor({ queue: "primes" });
   * await cluster.submit((x: number) => x * 2, 21).result();
   * const { completed, workers, runTime } = cluster.stats();
   * console.log(completed, workers, runTime.p50); // 1, the nodes' workers, ms
   * ```
   */
  stats(): RedisExecutorStats {
    const stats = this.#submitter.stats();
    const nodes = this.#submitter.nodes.nodes.map((node) => ({
      ...node,
      labels: [...node.labels],
    }));
    return { ...stats, retried: deferredOf(this).retried, nodes };
  }

  /**
   * Stops taking work. Idempotent.
   *
   * @param options `wait` (default `true`): resolve once every future is
   * done and the connection is closed; `cancelFutures`: cancel, and remove
   * from the queue, the tasks no node has started.
   * @returns A promise that resolves once shut down (at once with
   * `wait: false`; the futures still settle).
   *
   * @example Cancel what no node has started
   * ```ts ignore
   * import { RedisExecutor } from "jsr:@concurrent/futures/redis";
   *
   * const cluster = new RedisExecutor();
   * const futures = [1, 2, 3].map((n) => cluster.submit((x: number) => x, n));
   * await cluster.shutdown({ cancelFutures: true });
   * console.log(futures.every((f) => f.done())); // true
   * ```
   */
  shutdown(options: ShutdownOptions = {}): Promise<void> {
    const { wait = true, cancelFutures = false } = options;
    this.#shutdown = true;
    const deferred = deferredOf(this);
    if (cancelFutures) {
      deferred.cancelPending();
      this.#submitter.cancelQueued();
    }
    // The tasks held here (waiting, or between attempts) are still to be
    // written: the connection closes once none is left.
    this.#closed ??= deferred.settled().then(() => this.#submitter.close());
    return wait ? this.#closed : Promise.resolve();
  }
}
