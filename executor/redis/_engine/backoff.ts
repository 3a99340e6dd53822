// Both sides, inside the engine: when node-redis tries to reconnect.
//
// Reconnect back-off: 20, 40, 80 ... ms, capped at 500 ms, plus up to 50 ms
// of jitter so many nodes do not reconnect in step. A lower cap finds a
// restarted server sooner; a higher one costs a down server less.
//
// node-redis waits between attempts on a timer nobody can cancel (socket.js
// awaits node:timers/promises setTimeout), so a client destroyed mid-wait
// leaves it running. Each engine's back-off records when its last wait ends;
// close() outlasts it, so no timer outlives the engine (Deno's test
// sanitizers check), at the cost of up to 550 ms to close while Redis is down.
export class Backoff {
  #until = 0;

  /** node-redis's `reconnectStrategy`. */
  readonly delay = (retries: number): number => {
    const ms = Math.min(20 * 2 ** retries, 500) +
      Math.floor(Math.random() * 50);
    this.#until = Math.max(this.#until, performance.now() + ms);
    return ms;
  };

  /**
   * Resolves once every wait the strategy handed out has ended: when
   * `ending` (a destroyed client's connect()) settles, which its retry loop
   * does once its wait is over, or else when the last wait is due.
   */
  async settled(ending?: Promise<unknown>): Promise<void> {
    const left = this.#until - performance.now();
    if (ending === undefined) {
      // A timer due later than node-redis's fires after it; 5 ms of margin
      // covers the rounding of both.
      if (left > 0) {
        await new Promise((resolve) => setTimeout(resolve, left + 5));
      }
      return;
    }
    // Bounded, should the loop be stuck elsewhere.
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      ending.then(() => {}, () => {}),
      new Promise((resolve) =>
        timer = setTimeout(resolve, Math.max(left, 0) + 100)
      ),
    ]);
    clearTimeout(timer);
  }
}
