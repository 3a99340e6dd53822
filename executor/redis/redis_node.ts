/**
 * `RedisNode`: runs the tasks of a queue on a local pool executor, for the
 * `RedisExecutor`s that submit to it.
 *
 * @module
 */
import { describe } from "../../future/_util.ts";
import type { Executor } from "../executor.ts";
import { checkKnownOptions } from "../_base/options.ts";
import { checkLabelList } from "../_base/labels.ts";
import { stateOf } from "../_pool/submit.ts";
import { Link } from "./_engine/link.ts";
import {
  checkConnection,
  checkNatural,
  checkPrefixes,
  checkWait,
} from "./_options.ts";
import { Runner } from "./_node/runner.ts";
import { checkModuleAccess } from "./_node/module_access.ts";
import { DEFAULT_HISTORY } from "./_node/events.ts";

/** Options of {@linkcode RedisNode}. */
export interface RedisNodeOptions {
  /**
   * The Redis server: `redis://[user:password@]host[:port][/db]`, or
   * `rediss://` for TLS.
   *
   * @default {"redis://127.0.0.1:6379"}
   */
  url?: string;
  /**
   * The queue whose tasks it runs.
   *
   * @default {"concurrent-futures"}
   */
  queue?: string;
  /**
   * Where the tasks run: a `ThreadPoolExecutor` or `ProcessPoolExecutor`,
   * whose permissions are all a task gets. The node takes as many tasks as
   * it has free workers. It does not shut the executor down.
   */
  executor: Executor;
  /**
   * URL prefixes of the module tasks it runs (`fromModule`); a module task
   * under none of them fails with an error naming its URL and this option.
   * Prefixes compare as text after URL normalization: end them with `/`.
   *
   * @default {[]}
   */
  allowModules?: string[];
  /**
   * Tasks it takes beyond its free workers, to save round trips on tiny
   * tasks. `"auto"` takes ahead only while it runs tasks of functions it has
   * seen finish within a few milliseconds — as many as its workers finish
   * in about 4 ms, at most 64 — and none while it holds a slow or unknown
   * one or has nothing to run, so that long tasks spread over the nodes.
   * A number takes that many ahead, whatever the tasks. Each task taken
   * counts as a delivery at once: if the node dies, a task it took but
   * never started has used up one of its `maxAttempts`, and until its lease
   * runs out no other node runs it.
   *
   * @default {"auto"}
   */
  prefetch?: number | "auto";
  /**
   * Milliseconds the first connection may take before `ready` rejects; and
   * how long a closing node waits for Redis before it leaves what it holds
   * to other nodes.
   *
   * @default {10000}
   */
  connectTimeout?: number;
  /**
   * Milliseconds any task may run on this node, whatever its submitter
   * asked: past it the task is stopped and its future fails with a
   * `TimeoutError` naming this limit. The node, not the submitter, decides
   * what a task may cost (with a `ProcessPoolExecutor`, a runaway task is
   * really stopped; its `memoryLimit` bounds memory).
   *
   * @default {Infinity}
   */
  maxTaskTime?: number;
  /**
   * What this node offers (`"gpu"`, `"eu"`): it also runs the tasks whose
   * `labels` it has every one of, and takes those before the tasks any
   * node can run. A label is 1–64 characters of `A-Z a-z 0-9 _ . : -`.
   *
   * @default {[]}
   */
  labels?: string[];
  /**
   * Task events the queue's stream `<queue>:events` keeps for its
   * dashboard: this node adds one for each task's start (past a few ms),
   * progress and end, in the same write as its replies, and trims the
   * stream to about this many (`MAXLEN ~`). 0 writes none: the dashboard
   * then shows this node's tasks in no history.
   *
   * @default {10000}
   */
  history?: number;
}

/** Options of {@linkcode RedisNode.close}. */
export interface RedisNodeCloseOptions {
  /**
   * Milliseconds to let running tasks finish; past it they are stopped,
   * never answered, and handed back to the queue for other nodes.
   *
   * @default {Infinity}
   */
  grace?: number;
}

const OWNER = "RedisNode";
const OPTIONS = [
  "url",
  "queue",
  "executor",
  "allowModules",
  "prefetch",
  "connectTimeout",
  "maxTaskTime",
  "labels",
  "history",
] as const;

/**
 * Takes tasks from a queue and runs them on a local pool executor: one per
 * machine (or several), for the `RedisExecutor`s of the same queue.
 *
 * A node reads only as many tasks as its executor has free workers (plus
 * `prefetch`), reports each start and result to the task's executor,
 * extends the lease of what it holds, and takes over the tasks of nodes
 * that died once their lease ran out. Whoever can write to the queue runs
 * code here, inside the executor's permissions: give it a
 * `ProcessPoolExecutor` with `permissions: "none"` (or as narrow as the
 * tasks allow), and protect Redis.
 *
 * @example Run a queue's tasks on four processes
 * ```ts ignore
 * import { ProcessPoolExecutor } from "jsr:@concurrent/futures";
 * import { RedisNode } from "jsr:@concurrent/futures/redis";
 *
 * await using pool = new ProcessPoolExecutor({ maxWorkers: 4, permissions: "none" });
 * await using node = new RedisNode({
 *   url: "redis://127.0.0.1:6379",
 *   queue: "primes",
 *   executor: pool,
 * });
 * await node.ready;
 * // ... until it is time to stop:
 * await node.close();
 * ```
 */
export class RedisNode implements AsyncDisposable {
  /** This node's id: its consumer name in the group. */
  readonly id: string;
  /** Its labels, sorted. */
  readonly labels: readonly string[];
  /**
   * Resolves once the node is connected and reading; rejects when Redis
   * cannot be reached within `connectTimeout` (the node is then closed).
   */
  readonly ready: Promise<void>;
  readonly #link: Link;
  readonly #runner: Runner;
  #closed: Promise<void> | undefined;

  /**
   * Makes a node and starts connecting.
   *
   * @param options The Redis, the queue, the executor and what it admits.
   * @throws {TypeError} For an unknown option, a value of the wrong type, a
   * bad `url`, an `executor` that is not a pool executor, or one whose
   * permissions do not let its workers import the `allowModules` prefixes.
   * @throws {RangeError} For a number out of range.
   * @throws {Deno.errors.NotCapable} Without net permission to Redis.
   */
  constructor(options: RedisNodeOptions) {
    checkKnownOptions(options, OWNER, OPTIONS);
    const {
      executor,
      allowModules = [],
      prefetch = "auto",
      maxTaskTime = Infinity,
      labels = [],
      history = DEFAULT_HISTORY,
    } = options;
    const state = typeof executor === "object" && executor !== null
      ? stateOf(executor)
      : undefined;
    if (state === undefined) {
      throw new TypeError(
        `Cannot create ${OWNER} as 'executor' must be a ThreadPoolExecutor or ProcessPoolExecutor: current value is ${
          describe(executor)
        }`,
      );
    }
    this.id = nodeId();
    const checked = {
      ...checkConnection(options, OWNER),
      allowModules: checkPrefixes(allowModules, OWNER),
      prefetch: prefetch === "auto"
        ? prefetch
        : checkNatural(prefetch, OWNER, "prefetch", '"auto" or '),
      maxTaskTime: checkWait(maxTaskTime, OWNER, "maxTaskTime"),
      labels: checkLabelList(labels, `create ${OWNER}`),
      history: checkNatural(history, OWNER, "history"),
    };
    checkModuleAccess(state.permissions, checked.allowModules, OWNER);
    this.labels = checked.labels;
    this.#link = new Link({
      url: checked.url,
      connectTimeout: checked.connectTimeout,
      name: `concurrent-futures:node:${this.id}`,
    }, {
      connected: (engine) => this.#runner.start(engine),
      up: (engine) => this.#runner.back(engine),
      lost: () => {},
    });
    this.#runner = new Runner(this.#link, state, {
      nodeId: this.id,
      queue: checked.queue,
      allowModules: checked.allowModules,
      prefetch: checked.prefetch,
      maxTaskTime: checked.maxTaskTime,
      labels: checked.labels,
      history: checked.history,
    });
    this.ready = this.#link.connect().then(() => {}, async (error) => {
      await this.close();
      throw error;
    });
    this.ready.catch(() => {}); // observed or not, never unhandled
  }

  /**
   * Takes no more tasks, finishes and answers the ones it holds, leaves the
   * group and closes its connection. Idempotent (a second call's options
   * change nothing). The executor it runs on stays open.
   *
   * With Redis unreachable, it waits for its running tasks at most until
   * they end or `connectTimeout` passes for their answers; what it gives up
   * on, other nodes take once its lease runs out.
   *
   * @param options `grace`: how long running tasks may take; past it they
   * are stopped and handed back to the queue at once.
   * @returns A promise that resolves once the node is gone.
   * @throws {TypeError} For a `grace` that is not a number.
   * @throws {RangeError} For a `grace` that is not > 0.
   */
  close(options: RedisNodeCloseOptions = {}): Promise<void> {
    const { grace = Infinity } = options;
    this.#closed ??= this.#close(checkWait(grace, OWNER, "grace", "close"));
    return this.#closed;
  }

  async #close(grace: number): Promise<void> {
    if (this.#link.engine !== undefined) await this.#runner.close(grace);
    await this.#link.close();
  }

  /**
   * `close()`, for `await using`.
   *
   * @returns A promise that resolves once the node is gone.
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

// host-pid-random: unique, and readable in CLIENT LIST and XINFO.
function nodeId(): string {
  let host = "node";
  // Asked first: without permission, Deno.hostname() could prompt.
  const sys = { name: "sys", kind: "hostname" } as const;
  if (Deno.permissions.querySync(sys).state === "granted") {
    host = Deno.hostname();
  }
  return `${host}-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
}
