// Inside a worker: what a task may not reach. A pool with scoped
// permissions shares nothing with the program, so its workers close what a
// worker reaches without a permission check (surveyed on Deno 2.9.6); a
// process worker's stdin is the pool's channel, closed in every pool.
// Self-contained: shipped to workers as source text.

/** What a worker closes before any task runs. */
export class Sandbox {
  /**
   * Puts a closed stdin in place of Deno's and node's: in a process worker
   * stdin is the pool's channel (a frame a task took would never run), in a
   * thread the program's own input. Reading it throws
   * `Deno.errors.NotCapable`.
   *
   * @param process The worker is a process.
   */
  static closeStdin(process: boolean): void {
    const taken = (): never => {
      throw new Deno.errors.NotCapable(
        process
          ? "stdin is closed in a ProcessPoolExecutor worker: it is the pool's channel to this process"
          : "stdin is closed in a pool with scoped permissions: it is the program's own input",
      );
    };
    // Closing a thread's stdin resource leaves the program's open.
    if (!process) Deno.stdin.close();
    const stdin = {
      read: () => new Promise<never>(() => taken()),
      readSync: taken,
      get readable(): never {
        return taken();
      },
      setRaw: taken,
      isTerminal: () => false,
      close() {},
      [Symbol.dispose]() {},
    };
    Object.defineProperty(Deno, "stdin", { value: stdin, writable: false });
    Sandbox.#onNodeProcess((node) =>
      Object.defineProperty(node, "stdin", { get: taken })
    );
  }

  /**
   * Closes, in a scoped pool, what a worker reaches without a permission
   * check: the Cache API, Web Storage, Web Locks, BroadcastChannel, the
   * default Deno KV store and signal listeners. Each is replaced where it
   * lives, on the global scope or its prototypes, so no original stays
   * reachable from JavaScript; using one throws `Deno.errors.NotCapable`.
   */
  static closeShared(): void {
    const closed = Sandbox.#closed;
    const replace = Sandbox.#replace;
    replace(globalThis, "caches", {
      get: closed(
        "The Cache API (caches)",
        "its storage is shared with the program and persists on disk without write permission",
      ),
    });
    for (const key of ["localStorage", "sessionStorage"]) {
      replace(globalThis, key, {
        get: closed(
          `Web Storage (${key})`,
          "it persists on disk without write permission, shared by every program's process pool",
        ),
      });
    }
    replace(navigator, "locks", {
      get: closed(
        "The Web Locks API (navigator.locks)",
        "its locks are shared with the program and its other workers",
      ),
    });
    const channel = closed(
      "BroadcastChannel",
      "it is a channel to the program and its other workers",
    );
    replace(globalThis, "BroadcastChannel", {
      value: function BroadcastChannel() {
        channel();
      },
    });
    // With --unstable-kv.
    const kv = closed(
      "Deno.openKv()",
      "its default store persists on disk without write permission",
    );
    replace(Deno, "openKv", { value: () => new Promise<never>(() => kv()) });
    Sandbox.#closeSignals();
  }

  // A listener would take the program's own signals: one on SIGINT keeps
  // Ctrl-C from stopping it.
  static #closeSignals(): void {
    const signals = Sandbox.#closed(
      "Listening to signals",
      "a listener would take the program's own signals",
    );
    Sandbox.#replace(Deno, "addSignalListener", { value: signals });
    Sandbox.#onNodeProcess((node: Record<string, unknown>) => {
      const methods = ["on", "addListener", "once", "prependListener"];
      for (const method of [...methods, "prependOnceListener"]) {
        const original = node[method] as (...args: unknown[]) => unknown;
        node[method] = function (event: unknown, ...rest: unknown[]) {
          if (typeof event === "string" && event.startsWith("SIG")) signals();
          return original.call(this, event, ...rest);
        };
      }
    });
  }

  static #closed(what: string, why: string): () => never {
    return () => {
      throw new Deno.errors.NotCapable(
        `${what} is closed in a pool with scoped permissions: ${why}`,
      );
    };
  }

  // `get` replaces a getter (an attribute); `value` a function.
  static #replace(
    holder: object,
    key: string,
    descriptor: { get: () => never } | { value: unknown },
  ): void {
    for (let o: object | null = holder; o; o = Object.getPrototypeOf(o)) {
      if (!Object.hasOwn(o, key)) continue;
      Object.defineProperty(o, key, { ...descriptor, configurable: false });
    }
  }

  // Patches node's `process` object when a task first reaches it: touching
  // the global starts Deno's node compatibility layer, 8 to 19 ms a worker
  // (measured on 2.9.6), which a task that never uses `process` should not
  // pay.
  static #onNodeProcess(patch: (node: Record<string, unknown>) => void): void {
    const descriptor = Object.getOwnPropertyDescriptor(globalThis, "process");
    if (descriptor === undefined) return;
    if (descriptor.get === undefined) {
      return patch(descriptor.value as Record<string, unknown>);
    }
    const get = descriptor.get;
    let node: Record<string, unknown> | undefined;
    Object.defineProperty(globalThis, "process", {
      configurable: true,
      enumerable: descriptor.enumerable,
      get() {
        if (node === undefined) {
          node = get.call(globalThis) as Record<string, unknown>;
          patch(node);
        }
        return node;
      },
      set: descriptor.set,
    });
  }
}
