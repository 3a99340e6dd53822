// Runs on the main thread: when the pool dispatches. The submits of one turn
// are dispatched together at its end, so they can share messages; a
// dispatch is never nested: a microtask can run inside it (Deno loads some
// timer functions lazily, draining microtasks), so a nested call only asks
// for another round. It also keeps the turn's clock reading.

/** Runs the pool's dispatch, once at a time. */
export class Pump {
  readonly #step: () => void;
  readonly #after: () => void;
  #scheduled = false;
  #running = false;
  #again = false;
  // A clock reading shared by what happens in one turn (a burst of
  // submits, their dispatch; a message's results): performance.now() costs
  // about 0.15 µs, a round trip about 20. Cleared when a run ends.
  #clock: number | undefined;

  /**
   * @param step One round of dispatch.
   * @param after Called once the rounds are done.
   */
  constructor(step: () => void, after: () => void) {
    this.#step = step;
    this.#after = after;
  }

  /** The turn's clock reading (performance.now(), read once). */
  now(): number {
    return this.#clock ??= performance.now();
  }

  /** A new clock reading, shared by what follows in this turn. */
  tick(): number {
    return this.#clock = performance.now();
  }

  /** Runs at the end of this turn, once however often asked. */
  schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => this.run());
  }

  /** Runs rounds until none asks for another, then `after`. */
  run(): void {
    this.#scheduled = false;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = true;
    try {
      do {
        this.#again = false;
        this.#step();
      } while (this.#again);
    } finally {
      this.#running = false;
      this.#clock = undefined;
    }
    this.#after();
  }
}
