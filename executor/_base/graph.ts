// Runs on the main thread, for every executor: task graphs (SPEC "Task
// graphs: futures as arguments"). A top-level argument that is a Future is
// a dependency: the task waits — holding no worker, no queue slot, no Redis
// entry — until each is done, then runs with their values in their place.
// A dependency that fails fails it with the same error; one cancelled
// cancels it; the first to go wrong decides.
import { Future } from "../../future/future.ts";
import { CancelledError } from "../../future/errors.ts";
import { outcomeOf } from "../../future/_outcome.ts";
import { LazyValue } from "../../future/_lazy.ts";

/**
 * An argument, or the future of one: a task may take other tasks' futures
 * (of any executor) as arguments, and runs with their values.
 *
 * @typeParam A The task's parameters.
 */
export type FutureArgs<A extends unknown[]> = {
  [K in keyof A]: A[K] | Future<A[K]>;
};

/** Whether a top-level argument is a Future: one `instanceof` each. */
export function hasFuture(args: readonly unknown[]): boolean {
  for (const arg of args) if (arg instanceof Future) return true;
  return false;
}

/** Whether a chunk's columns (`map`) hold a Future. */
export function columnsHaveFuture(columns: readonly unknown[][]): boolean {
  for (const column of columns) if (hasFuture(column)) return true;
  return false;
}

/**
 * Waits for the futures among `args`, then calls `ready` with each future
 * replaced by its value; `failed` with the error of the first that fails,
 * or a `CancelledError` for the first that is cancelled. Nothing is held
 * meanwhile but a done callback on each future: no promise is made, and
 * `ready` runs as the last dependency settles (in its done callbacks), or
 * in a microtask when there is none. A `ready` that throws fails the task.
 *
 * A value kept elsewhere (a `LazyValue`) is passed on as it is when `owner`
 * kept it (its executor hands the task a reference), else read first.
 */
export function whenReady(
  args: readonly unknown[],
  ready: (values: unknown[]) => void,
  failed: (error: unknown, cancelled: boolean) => void,
  owner?: object,
): void {
  const values = [...args];
  let left = 0;
  let over = false;
  const start = () => {
    try {
      ready(values);
    } catch (error) {
      failed(error, false);
    }
  };
  const fail = (error: unknown, cancelled: boolean) => {
    if (over) return;
    over = true;
    queueMicrotask(() => failed(error, cancelled));
  };
  // A dependency's value is in place (now, or once read): one less left.
  const take = (i: number, future: Future<unknown>): void => {
    const outcome = outcomeOf(future);
    if (outcome === undefined) return fail(cancelledDependency(), true);
    if (!outcome.ok) return fail(outcome.error, false);
    const value = outcome.value;
    if (value instanceof LazyValue && value.owner !== owner) {
      value.value().then((read) => {
        values[i] = read;
        if (!over && --left === 0) start();
      }, (error) => fail(error, false));
      return;
    }
    values[i] = value;
    if (--left === 0) start();
  };
  // Every future is counted before any is taken, so that one already done
  // cannot start the task before the others are seen; the count's own
  // share is taken last.
  left = 1;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!(arg instanceof Future)) continue;
    left++;
    if (arg.done()) {
      // Taken in a microtask, as every start and failure of a task is.
      queueMicrotask(() => {
        if (!over) take(i, arg);
      });
    } else {
      arg.addDoneCallback((future: Future<unknown>) => {
        if (!over) take(i, future);
      });
    }
  }
  queueMicrotask(() => {
    if (!over && --left === 0) start();
  });
}

/** `whenReady` for a chunk's columns (`map`): each item may be a future. */
export function whenColumnsReady(
  columns: readonly unknown[][],
  ready: (columns: unknown[][]) => void,
  failed: (error: unknown, cancelled: boolean) => void,
  owner?: object,
): void {
  const widths = columns.map((column) => column.length);
  whenReady(
    columns.flat(),
    (values) => {
      let at = 0;
      ready(widths.map((width) => values.slice(at, at += width)));
    },
    failed,
    owner,
  );
}

/**
 * The error for a task whose arguments could not be cloned because a Future
 * is nested inside one (a Future never arrives in a task as `{}`), or
 * `error` itself. Looked for only once a clone failed.
 */
export function explainClone(error: unknown, args: unknown): unknown {
  return nestsFuture(args, new Set())
    ? new DOMException(
      "Cannot send the task as a Future is nested inside an argument: pass it as a top-level argument (the task then waits for it and gets its value), or pass its value",
      "DataCloneError",
    )
    : error;
}

function nestsFuture(value: unknown, seen: Set<unknown>): boolean {
  if (value === null || typeof value !== "object") return false;
  if (value instanceof Future) return true;
  if (seen.has(value) || ArrayBuffer.isView(value)) return false;
  seen.add(value);
  const items = value instanceof Map
    ? [...value.keys(), ...value.values()]
    : value instanceof Set
    ? [...value]
    : Object.values(value);
  return items.some((item) => nestsFuture(item, seen));
}

/** The error of a dependency that was cancelled, for a task's own future. */
export function cancelledDependency(): CancelledError {
  return new CancelledError("A future this task depends on was cancelled");
}
