// Counts the Web Workers a pool starts and terminates, by putting a counting
// subclass in place of `globalThis.Worker` until disposed (`using`).

/** What `countWorkers` saw; dispose it to put `Worker` back. */
export interface WorkerCount extends Disposable {
  /** `new Worker` calls. */
  readonly started: number;
  /** `terminate()` calls. */
  readonly terminated: number;
  /** The `name` option of each worker started, in order. */
  readonly names: readonly string[];
  /** Resolves once `terminated` reaches `n`. */
  terminations(n: number): Promise<void>;
}

/** Replaces `globalThis.Worker` with a counting subclass until disposed. */
export function countWorkers(): WorkerCount {
  const Original = globalThis.Worker;
  const names: string[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  let started = 0;
  let terminated = 0;
  class CountingWorker extends Original {
    constructor(url: string | URL, options?: WorkerOptions) {
      super(url, options);
      started++;
      names.push(options?.name ?? "");
    }
    override terminate(): void {
      terminated++;
      for (const waiter of waiters) {
        if (terminated >= waiter.n) waiter.resolve();
      }
      super.terminate();
    }
  }
  globalThis.Worker = CountingWorker;
  return {
    get started() {
      return started;
    },
    get terminated() {
      return terminated;
    },
    names,
    terminations(n: number): Promise<void> {
      if (terminated >= n) return Promise.resolve();
      const { promise, resolve } = Promise.withResolvers<void>();
      waiters.push({ n, resolve });
      return promise;
    },
    [Symbol.dispose]() {
      globalThis.Worker = Original;
    },
  };
}
