// Runs on the main thread, for every executor: the tasks an executor holds
// itself rather than handing them at once to its workers or nodes — those
// waiting for their dependencies (graph.ts) and those that may run again
// (retry.ts). Each is one future, its own, driven through attempts, each
// attempt a future of the executor's own submit path:
//
//   run(fn, [a, futureB]) ── whenReady ──> attempt 1 ──fails──> retryIf? delay
//        │ (pending: holds nothing)          │ running mirrors   └──> attempt 2 …
//        ▼                                   ▼ progress too
//   its future (outer) ◄──────── value, or the last error ────────────────┘
//
// An executor's shutdown waits for what it holds before it closes its
// workers (a retry must still find them), and `cancelFutures` cancels what
// is still pending.
import { Future } from "../../future/future.ts";
import { CancelledError } from "../../future/errors.ts";
import { outcomeOf } from "../../future/_outcome.ts";
import { whenReady } from "./graph.ts";
import { retryDelayOf, type RetryPolicy } from "./retry.ts";

/**
 * Starts one attempt: submits the task with `args` on the executor, driving
 * `attempt` (whose state the task's own future mirrors); `transfer` lists
 * the buffers in `args` to move.
 */
export type StartAttempt = (
  args: unknown[],
  attempt: Future<unknown>,
  transfer: Transferable[] | undefined,
) => void;

/** What a held task was given besides its function and arguments. */
export interface HeldOptions {
  policy: RetryPolicy;
  signal?: AbortSignal;
  transfer?: Transferable[];
}

/** The tasks one executor holds itself, and how often it retried. */
export class Deferred {
  /** How many times a task ran again (stats' `retried`). */
  retried = 0;
  /** The executor whose tasks these are. */
  readonly owner: object;
  // The futures of the held tasks, until each is done.
  readonly #held = new Set<Future<unknown>>();
  #empty: PromiseWithResolvers<void> | undefined;

  constructor(owner: object) {
    this.owner = owner;
  }

  /**
   * Holds a task until its dependencies are done, then runs it through
   * `start`, again after a failure as `options.policy` allows.
   *
   * @returns the task's future.
   */
  run<R>(
    args: unknown[],
    options: HeldOptions,
    start: StartAttempt,
  ): Future<R> {
    const outer = new Future<R>();
    const { signal } = options;
    if (signal?.aborted) {
      outer.setException(signal.reason);
      return outer;
    }
    // Moved now, as run() promises: detached in the caller at once.
    const held = moveNow(args, options.transfer);
    this.hold(outer);
    if (signal !== undefined) {
      // A pending task is cancelled; a running one is stopped by its
      // attempt, which has the same signal.
      const onAbort = () => outer.cancel();
      signal.addEventListener("abort", onAbort, { once: true });
      outer.addDoneCallback(() => signal.removeEventListener("abort", onAbort));
    }
    whenReady(held.args, (values) => {
      if (outer.done()) return;
      if (options.policy.retries === 0) {
        // One attempt: the task's own future is the attempt's.
        try {
          return start(values, outer as Future<unknown>, held.transfer);
        } catch (error) {
          if (!outer.done()) outer.setException(error);
          return;
        }
      }
      const attempts = new Attempts(outer, values, held.transfer, {
        ...options,
        start,
        retried: () => this.retried++,
      });
      attempts.next();
    }, (error, cancelled) => {
      if (outer.done()) return;
      if (cancelled) outer.cancel();
      else outer.setException(error);
    }, this.owner);
    return outer;
  }

  /** Counts `future` as held until it is done (shutdown waits for it). */
  hold(future: Future<unknown>): void {
    this.#held.add(future);
    future.addDoneCallback(() => {
      this.#held.delete(future);
      if (this.#held.size === 0) this.#empty?.resolve();
    });
  }

  /** Cancels the held tasks still pending (`cancelFutures`). */
  cancelPending(): void {
    for (const future of [...this.#held]) future.cancel();
  }

  /** Resolves once no task is held. */
  settled(): Promise<void> {
    if (this.#held.size === 0) return Promise.resolve();
    this.#empty ??= Promise.withResolvers<void>();
    return this.#empty.promise;
  }
}

const registry = new WeakMap<object, Deferred>();

/** The held tasks of an executor. */
export function deferredOf(executor: object): Deferred {
  let deferred = registry.get(executor);
  if (deferred === undefined) {
    registry.set(executor, deferred = new Deferred(executor));
  }
  return deferred;
}

// The arguments' buffers moved out of the caller's hands now: the futures
// among them stay as they are (they cannot be cloned), the rest is cloned
// with the transfer list.
function moveNow(
  args: unknown[],
  transfer: Transferable[] | undefined,
): { args: unknown[]; transfer: Transferable[] | undefined } {
  if (transfer === undefined || transfer.length === 0) {
    return { args, transfer };
  }
  const plain = args.map((arg) => arg instanceof Future ? undefined : arg);
  const moved = structuredClone({ plain, transfer }, { transfer });
  return {
    args: args.map((arg, i) => arg instanceof Future ? arg : moved.plain[i]),
    transfer: moved.transfer,
  };
}

// One attempt's future: it starts only if the task's own future is still
// wanted (a cancelled one cancels it), turns that future running, and
// hands it its progress.
class Attempt extends Future<unknown> {
  readonly #outer: Future<unknown>;

  constructor(outer: Future<unknown>) {
    super();
    this.#outer = outer;
  }

  override setRunningOrNotifyCancel(): boolean {
    const outer = this.#outer;
    if (outer.state === "pending" && !outer.setRunningOrNotifyCancel()) {
      this.cancel();
    }
    return super.setRunningOrNotifyCancel();
  }

  override setProgress(value: unknown): void {
    super.setProgress(value);
    this.#outer.setProgress(value);
  }
}

// The attempts of one task.
class Attempts {
  readonly #outer: Future<unknown>;
  readonly #args: unknown[];
  readonly #transfer: Transferable[] | undefined;
  readonly #options: HeldOptions & {
    start: StartAttempt;
    retried: () => void;
  };
  #made = 0;
  #current: Future<unknown> | undefined;

  constructor(
    outer: Future<unknown>,
    args: unknown[],
    transfer: Transferable[] | undefined,
    options: HeldOptions & { start: StartAttempt; retried: () => void },
  ) {
    this.#outer = outer;
    this.#args = args;
    this.#transfer = transfer;
    this.#options = options;
    outer.addDoneCallback(() => {
      if (outer.cancelled()) this.#current?.cancel();
    });
  }

  next(): void {
    if (this.#outer.done()) return;
    this.#made++;
    const attempt = new Attempt(this.#outer);
    this.#current = attempt;
    attempt.addDoneCallback(() => this.#settled(attempt));
    const { args, transfer } = this.#argsOf();
    try {
      this.#options.start(args, attempt, transfer);
    } catch (error) {
      if (!attempt.done()) attempt.setException(error);
    }
  }

  // The arguments of the next attempt: the same, or — when buffers are
  // moved and it may be retried — a copy, so the next attempt has them.
  #argsOf(): { args: unknown[]; transfer: Transferable[] | undefined } {
    const transfer = this.#transfer;
    if (transfer === undefined || this.#options.policy.retries === 0) {
      return { args: this.#args, transfer };
    }
    return structuredClone({ args: this.#args, transfer });
  }

  #settled(attempt: Future<unknown>): void {
    const outer = this.#outer;
    if (outer.done()) return;
    if (attempt.cancelled()) {
      // Cancelled by the executor (its shutdown): the task is too.
      if (!outer.cancel()) {
        outer.setException(
          new CancelledError("The task's attempt was cancelled"),
        );
      }
      return;
    }
    // The value as it is (one kept elsewhere is not read here).
    const outcome = outcomeOf(attempt)!;
    if (outcome.ok) outer.setResult(outcome.value);
    else this.#failed(outcome.error);
  }

  #failed(error: unknown): void {
    const outer = this.#outer;
    if (outer.done()) return;
    const { policy, signal } = this.#options;
    const retry = retryAfter(this.#made, error, policy, signal);
    if (!retry.again) return outer.setException(retry.error);
    this.#options.retried();
    if (retry.delay === 0) return this.next();
    const timer = setTimeout(() => this.next(), retry.delay);
    outer.addDoneCallback(() => clearTimeout(timer));
  }
}

/**
 * Whether a task that failed with `error` after `made` attempts runs again,
 * and after how long; else the error its future fails with (`retryIf`'s
 * own, if it threw).
 */
export function retryAfter(
  made: number,
  error: unknown,
  policy: RetryPolicy,
  signal: AbortSignal | undefined,
): { again: true; delay: number } | { again: false; error: unknown } {
  if (made > policy.retries || signal?.aborted) return { again: false, error };
  try {
    if (!(policy.retryIf?.(error) ?? true)) return { again: false, error };
  } catch (thrown) {
    return { again: false, error: thrown };
  }
  return { again: true, delay: retryDelayOf(made, policy.retryDelay) };
}
