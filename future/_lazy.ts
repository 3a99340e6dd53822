// The library's own value that is not here yet: a result an executor kept
// elsewhere (a RedisExecutor's large values, kept in Redis) and reads only
// when someone asks for it. A future finishes with one like any value;
// `result()` reads it, once, and hands out what it read. Task graphs pass
// it on as it is to a task of the same `owner` (whose node reads it), and
// read it for any other executor.
//
// future/ imports nothing of executor/: this file is the whole contract.

/** A value kept elsewhere, read on first demand. */
export class LazyValue {
  /** Who kept it: its executor's own object. */
  readonly owner: object;
  readonly #load: () => Promise<unknown>;
  #loading: Promise<unknown> | undefined;

  /**
   * @param owner who kept it.
   * @param load reads it; called at most once (its promise is kept).
   */
  constructor(owner: object, load: () => Promise<unknown>) {
    this.owner = owner;
    this.#load = load;
  }

  /** Whether it has been asked for. */
  get loaded(): boolean {
    return this.#loading !== undefined;
  }

  /** Reads it, the first time; the same promise after. */
  value(): Promise<unknown> {
    return this.#loading ??= this.#load();
  }
}
