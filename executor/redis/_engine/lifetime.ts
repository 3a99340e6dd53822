// Both sides: the background life of one executor's or node's connection —
// its timers and its waits — ended at once, whatever Redis is doing.
//
// Every timer of the Redis side is armed through `timer()` and every back-off
// or wait for an event goes through `sleep()` / `until()`, so after `end()`
// nothing can arm a timer, every wait is over, and every loop that checks
// `ended` stops: close is a contract (STYLE.md), not a hope that each loop
// noticed.

/** Timers and waits that end with their owner. */
export class Lifetime {
  #ended = false;
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  readonly #end = Promise.withResolvers<void>();

  /** Whether `end()` was called. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Resolves once `end()` is called. */
  get whenEnded(): Promise<void> {
    return this.#end.promise;
  }

  /**
   * Calls `fn` after `ms`, unless the lifetime ends first: after `end()` no
   * timer is armed, and the ones armed are cleared.
   *
   * @returns A function that clears the timer.
   */
  timer(ms: number, fn: () => void): () => void {
    if (this.#ended) return () => {};
    const id = setTimeout(() => {
      this.#timers.delete(id);
      fn();
    }, ms);
    this.#timers.add(id);
    return () => {
      clearTimeout(id);
      this.#timers.delete(id);
    };
  }

  /** Resolves after `ms`, or at once when the lifetime ends. */
  sleep(ms: number): Promise<void> {
    if (this.#ended) return Promise.resolve();
    return new Promise((resolve) => {
      const clear = this.timer(ms, resolve);
      this.#end.promise.then(() => {
        clear();
        resolve();
      });
    });
  }

  /**
   * Resolves with `promise`'s outcome, or with `undefined` once the
   * lifetime ends, whichever is first: a wait that never outlives it.
   */
  until<T>(promise: Promise<T>): Promise<T | undefined> {
    if (this.#ended) {
      promise.catch(() => {});
      return Promise.resolve(undefined);
    }
    return Promise.race([promise, this.#end.promise.then(() => undefined)]);
  }

  /** Clears every timer and ends every wait. Idempotent. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    for (const id of this.#timers) clearTimeout(id);
    this.#timers.clear();
    this.#end.resolve();
  }
}
