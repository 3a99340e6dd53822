// The library's own synchronous view of a done future's outcome, for code
// that runs in a done callback and should not make a promise to read it
// (a task graph's edges). future.ts hands over the reader once, at load;
// this file imports nothing (no import cycle with future.ts).

/** A finished future's value or error. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

let reader: ((future: object) => Outcome<unknown> | undefined) | undefined;

/** Called once by future.ts with the reader of its private outcome. */
export function setOutcomeReader(
  read: (future: object) => Outcome<unknown> | undefined,
): void {
  reader = read;
}

/**
 * The outcome of a finished future; `undefined` while it is pending or
 * running, or once cancelled.
 */
export function outcomeOf(future: object): Outcome<unknown> | undefined {
  return reader!(future);
}
