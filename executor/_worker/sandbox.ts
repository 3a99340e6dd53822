// Inside a worker: what a task may not reach. A pool with scoped
// permissions shares nothing with the program, so this closes what a worker
// reaches without a permission check (surveyed on Deno 2.9.6); a process
// worker's stdin is the pool's channel, closed in every pool.
// Self-contained: shipped to workers as source text.

/**
 * Closes, before any task runs, what a task must not reach: stdin (the
 * program's input in a thread; the pool's channel in a process), and in a
 * scoped pool the Cache API, Web Storage, Web Locks, BroadcastChannel, the
 * default Deno KV store and signal listeners. Each is replaced where it
 * lives, on the global scope or its prototypes, so no original stays
 * reachable from JavaScript; using one throws `Deno.errors.NotCapable`.
 *
 * @param scoped The pool's permissions are not `"inherit"`.
 * @param process The worker is a process, whose stdin is the channel.
 */
export function sandbox(scoped: boolean, process: boolean): void {
  const closed = (what: string, why: string) => (): never => {
    throw new Deno.errors.NotCapable(
      `${what} is closed in a pool with scoped permissions: ${why}`,
    );
  };
  // `get` replaces a getter (an attribute); `value` a function.
  const replace = (
    holder: object,
    key: string,
    descriptor: { get: () => never } | { value: unknown },
  ) => {
    for (
      let o: object | null = holder;
      o !== null;
      o = Object.getPrototypeOf(o)
    ) {
      if (!Object.hasOwn(o, key)) continue;
      Object.defineProperty(o, key, { ...descriptor, configurable: false });
    }
  };
  const node = (globalThis as unknown as { process?: Record<string, unknown> })
    .process;

  // stdin: a process worker's is the pool's channel (a frame a task took
  // would never run), a thread's the program's own input.
  if (process || scoped) {
    const taken = process
      ? () => {
        throw new Deno.errors.NotCapable(
          "stdin is closed in a ProcessPoolExecutor worker: it is the pool's channel to this process",
        );
      }
      : closed("stdin", "it is the program's own input");
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
    if (node !== undefined) {
      Object.defineProperty(node, "stdin", { get: taken });
    }
  }
  if (!scoped) return;

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
  // A signal listener would take the program's signals: one on SIGINT keeps
  // Ctrl-C from stopping it.
  const signals = closed(
    "Listening to signals",
    "a listener would take the program's own signals",
  );
  replace(Deno, "addSignalListener", { value: signals });
  if (node !== undefined) {
    for (
      const method of [
        "on",
        "addListener",
        "once",
        "prependListener",
        "prependOnceListener",
      ]
    ) {
      const original = node[method] as (...args: unknown[]) => unknown;
      node[method] = function (event: unknown, ...rest: unknown[]) {
        if (typeof event === "string" && event.startsWith("SIG")) signals();
        return original.call(this, event, ...rest);
      };
    }
  }
}
