// Inside a worker: what a task may not reach. A pool with scoped
// permissions shares nothing with the program, so its workers close what a
// worker reaches without a permission check (surveyed on Deno 2.9.6); a
// process worker's stdin is the pool's channel, closed in every pool.
// Each function is self-contained: shipped to workers as source text.

/**
 * Puts a closed stdin in place of Deno's and node's, before any task runs:
 * in a process worker stdin is the pool's channel (a frame a task took
 * would never run), in a thread the program's own input. Reading it throws
 * `Deno.errors.NotCapable`.
 *
 * @param process The worker is a process.
 */
export function closeStdin(process: boolean): void {
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
  const node = (globalThis as unknown as { process?: object }).process;
  if (node !== undefined) {
    Object.defineProperty(node, "stdin", { get: taken });
  }
}

/**
 * Closes, before any task of a scoped pool runs, what a worker reaches
 * without a permission check: the Cache API, Web Storage, Web Locks,
 * BroadcastChannel, the default Deno KV store and signal listeners. Each is
 * replaced where it lives, on the global scope or its prototypes, so no
 * original stays reachable from JavaScript; using one throws
 * `Deno.errors.NotCapable`.
 */
export function closeShared(): void {
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
    for (let o: object | null = holder; o; o = Object.getPrototypeOf(o)) {
      if (!Object.hasOwn(o, key)) continue;
      Object.defineProperty(o, key, { ...descriptor, configurable: false });
    }
  };
  const why = {
    caches:
      "its storage is shared with the program and persists on disk without write permission",
    storage:
      "it persists on disk without write permission, shared by every program's process pool",
    locks: "its locks are shared with the program and its other workers",
    channel: "it is a channel to the program and its other workers",
    kv: "its default store persists on disk without write permission",
    signals: "a listener would take the program's own signals",
  };
  replace(globalThis, "caches", {
    get: closed("The Cache API (caches)", why.caches),
  });
  for (const key of ["localStorage", "sessionStorage"]) {
    replace(globalThis, key, {
      get: closed(`Web Storage (${key})`, why.storage),
    });
  }
  replace(navigator, "locks", {
    get: closed("The Web Locks API (navigator.locks)", why.locks),
  });
  const channel = closed("BroadcastChannel", why.channel);
  replace(globalThis, "BroadcastChannel", {
    value: function BroadcastChannel() {
      channel();
    },
  });
  // With --unstable-kv.
  const kv = closed("Deno.openKv()", why.kv);
  replace(Deno, "openKv", { value: () => new Promise<never>(() => kv()) });
  // One on SIGINT would keep Ctrl-C from stopping the program.
  const signals = closed("Listening to signals", why.signals);
  replace(Deno, "addSignalListener", { value: signals });
  const node = (globalThis as unknown as { process?: Record<string, unknown> })
    .process;
  if (node === undefined) return;
  const methods = ["on", "addListener", "once", "prependListener"];
  for (const method of [...methods, "prependOnceListener"]) {
    const original = node[method] as (...args: unknown[]) => unknown;
    node[method] = function (event: unknown, ...rest: unknown[]) {
      if (typeof event === "string" && event.startsWith("SIG")) signals();
      return original.call(this, event, ...rest);
    };
  }
}
