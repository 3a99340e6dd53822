// The worker side. `workerMain` is shipped to each worker as source text
// (`workerSource()`), so it must be self-contained: it may use only globals
// and its parameters, never this file's imports (types are fine).
import type {
  ChunkRecord,
  ErrorRecord,
  FromWorker,
  FunctionSpec,
  InitMessage,
  Protocol,
  RawThrow,
  StatusMark,
  ToWorker,
} from "./_protocol.ts";

/** The part of a `MessagePort` the worker side talks through. */
export interface Endpoint {
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
}

/**
 * Runs inside a worker: takes the init message, then runs tasks in order,
 * one at a time, and sends their results back in batches.
 *
 * @param P The protocol constants (this function cannot import them).
 * @param connect Gives the endpoint and the init message; by default the
 * first message a Web Worker receives.
 */
export function workerMain(
  P: Protocol,
  connect?: (start: (endpoint: Endpoint, init: InitMessage) => void) => void,
): void {
  // Results wait in the outbox until FLUSH_MS has passed since the last send
  // or the worker runs out of tasks: one postMessage then carries many tiny
  // results, while a task that takes longer than FLUSH_MS sends its own at
  // once. The price: a result may wait for at most one task that started
  // less than FLUSH_MS after it.
  const FLUSH_MS = 0.5;
  // Causes deeper than this are cut (an error may be its own cause).
  const MAX_CAUSES = 16;
  const T = P.TASK, R = P.RESULT;
  const functions = new Map<number, (...args: unknown[]) => unknown>();
  // Every spec received: the pool sends a spec once, so a task whose module
  // or export was missing the first time must be resolved again by id.
  const specs = new Map<number, FunctionSpec>();
  const modules = new Map<string, Promise<Record<string, unknown>>>();
  // Ids of module tasks: their ReferenceErrors are the module's own.
  const moduleIds = new Set<number>();
  let endpoint: Endpoint;
  // Task records in the flat form of `_protocol.ts`, from `head` on.
  let queue: unknown[] = [];
  let head = 0;
  // The id of the task running now, or -1.
  let running = -1;
  let busy = false;
  let ready = false;
  // [RESULTS, id, status, value, ms, id, ...]: ms is the task's run time.
  let outbox: unknown[] = [P.RESULTS];
  let transfers: Transferable[] = [];
  let lastFlush = 0;
  // When the running task started.
  let startedAt = 0;
  let dead = false;
  // While postMessage clones a RESULTS message: that message, and the mark
  // of the record whose value is being cloned (the mark's getter sets it),
  // so a getter that throws or ends the worker is blamed on its own task.
  let sending: unknown[] | undefined;
  let cloning: StatusMark | undefined;
  // Inside fatal(): close() or Deno.exit() called again, by a getter while
  // the last results go out, throws GOING instead of ending the worker
  // before FATAL is sent; that result is dropped and its task fails with
  // the worker.
  let inFatal = false;
  const GOING = new Error("The worker is going");

  function flush(): void {
    if (outbox.length === 1 || dead) return;
    lastFlush = performance.now();
    const message = outbox;
    const transfer = transfers;
    outbox = [P.RESULTS];
    transfers = [];
    post(message, transfer);
  }

  // Posts a RESULTS message. A value that cannot be cloned, or whose getter
  // throws, fails only its own task: its record becomes that error and the
  // message is posted again.
  function post(message: unknown[], transfer: Transferable[]): void {
    const outer = sending;
    sending = message;
    try {
      while (message.length > 1 && (!dead || inFatal)) {
        cloning = undefined;
        try {
          endpoint.postMessage(message as FromWorker, transfer);
          return;
        } catch (error) {
          const at = markedAt(message, cloning);
          if (at < 0) return postEach(message);
          if (error === GOING) message.splice(at, R.SIZE);
          else {
            message[at + R.STATUS] = P.ERROR;
            message[at + R.VALUE] = toRecord(cloneError(error));
          }
        }
      }
    } finally {
      sending = outer;
    }
  }

  // Where the record with this mark starts in a message, or -1.
  function markedAt(message: unknown[], mark: StatusMark | undefined): number {
    if (mark === undefined) return -1;
    for (let i = 1; i < message.length; i += R.SIZE) {
      if (message[i + R.STATUS] === mark) return i;
    }
    return -1;
  }

  // The transfer list itself failed (a detached buffer): each result alone.
  function postEach(message: unknown[]): void {
    for (let i = 1; i < message.length; i += R.SIZE) {
      const one = [P.RESULTS, ...message.slice(i, i + R.SIZE)];
      sending = one;
      cloning = one[1 + R.STATUS] as StatusMark;
      try {
        endpoint.postMessage(one as FromWorker, transferIn(one[1 + R.VALUE]));
      } catch (error) {
        one[1 + R.STATUS] = P.ERROR;
        one[1 + R.VALUE] = toRecord(cloneError(error));
        endpoint.postMessage(one as FromWorker);
      }
    }
  }

  // node:v8 (a process worker) reports an uncloneable value with a plain
  // Error; postMessage with a DataCloneError. Make both the latter.
  function cloneError(error: unknown): unknown {
    return error instanceof Error && error.constructor === Error &&
        / could not be cloned\.$/.test(error.message)
      ? new DOMException(error.message, "DataCloneError")
      : error;
  }

  function transferIn(value: unknown): Transferable[] {
    return transfers.filter((t) => containsBuffer(value, t, new Set()));
  }

  function containsBuffer(
    value: unknown,
    t: Transferable,
    seen: Set<unknown>,
  ): boolean {
    if (value === t) return true;
    if (value === null || typeof value !== "object" || seen.has(value)) {
      return false;
    }
    seen.add(value);
    if (ArrayBuffer.isView(value)) return value.buffer === t;
    return Object.values(value).some((v) => containsBuffer(v, t, seen));
  }

  function settle(id: number, status: number, value: unknown): void {
    if (
      status === P.OK && value !== null && typeof value === "object" &&
      P.TRANSFER_KEY in value
    ) {
      const marked = value as Record<string, unknown>;
      for (const t of marked[P.TRANSFER_KEY] as Transferable[]) {
        transfers.push(t);
      }
      value = marked.value;
    }
    outbox.push(
      id,
      status === P.ERROR || isPlain(value) ? status : mark(status),
      value,
      performance.now() - startedAt,
    );
  }

  // A value whose cloning runs no code of the task's.
  function isPlain(value: unknown): boolean {
    return value === null ||
      (typeof value !== "object" && typeof value !== "function" &&
        typeof value !== "symbol");
  }

  function mark(status: number): StatusMark {
    const self: StatusMark = {
      get status() {
        cloning = self;
        return status;
      },
    };
    return self;
  }

  // Says which task ended the worker, before it goes. Dying while a getter
  // runs as a result is cloned blames that result's task and still delivers
  // the rest of the batch, which is done.
  function fatal(reason: string): void {
    if (dead) return;
    inFatal = true;
    let culprit = running;
    try {
      const batch = sending;
      const at = batch === undefined ? -1 : markedAt(batch, cloning);
      if (at >= 0) {
        culprit = batch![at + R.ID] as number;
        const rest = batch!.slice();
        rest.splice(at, R.SIZE);
        post(rest, []);
      } else {
        flush();
      }
    } catch {
      // Dying: what could not be sent is the pool's to retry.
    } finally {
      dead = true;
      inFatal = false;
    }
    endpoint.postMessage([P.FATAL, culprit, reason]);
  }

  // A thrown value as it crosses the boundary. Never throws: a value whose
  // reading throws (a hostile getter, a Proxy) becomes a record saying so.
  function toRecord(error: unknown, depth = 0): ErrorRecord | RawThrow {
    try {
      return recordOf(error, depth);
    } catch (unreadable) {
      return {
        error: true,
        name: "Error",
        message: `The task threw a value that cannot be read: ${
          safeString(unreadable)
        }`,
      };
    }
  }

  function recordOf(error: unknown, depth: number): ErrorRecord | RawThrow {
    if (!(error instanceof Error)) {
      try {
        return { error: false, value: structuredClone(error) };
      } catch {
        return { error: false, value: String(error) };
      }
    }
    const record: ErrorRecord = {
      error: true,
      name: String(error.name),
      message: String(error.message),
      stack: typeof error.stack === "string" ? error.stack : undefined,
    };
    if (error instanceof DOMException) record.dom = true;
    if ("cause" in error && error.cause !== undefined && depth < MAX_CAUSES) {
      const cause = error.cause;
      if (cause instanceof Error) {
        record.cause = toRecord(cause, depth + 1);
        record.causeIsError = true;
      } else {
        try {
          record.cause = structuredClone(cause);
        } catch {
          record.cause = safeString(cause);
        }
      }
    }
    return record;
  }

  function safeString(value: unknown): string {
    try {
      return String(value);
    } catch {
      return typeof value;
    }
  }

  // A task's error, explained where it can be, as a record.
  function failure(
    error: unknown,
    fn: number | FunctionSpec,
  ): ErrorRecord | RawThrow {
    try {
      explain(error, fn);
    } catch {
      // A frozen or hostile error keeps its own message.
    }
    return toRecord(error);
  }

  function compile(spec: FunctionSpec): (...args: unknown[]) => unknown {
    const source = spec.source!;
    const indirectEval = eval;
    try {
      return indirectEval(`(${source}\n)`);
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      // A method shorthand (`{ f(x) { ... } }.f`) is not an expression alone.
      const holder = indirectEval(`({${source}\n})`);
      return Object.values(holder)[0] as (...args: unknown[]) => unknown;
    }
  }

  // Returns the function, or a promise of it for a module not yet loaded.
  function resolve(
    spec: FunctionSpec,
  ):
    | ((...args: unknown[]) => unknown)
    | Promise<(...args: unknown[]) => unknown> {
    const known = functions.get(spec.id);
    if (known !== undefined) return known;
    specs.set(spec.id, spec);
    if (spec.module === undefined) {
      const fn = compile(spec);
      functions.set(spec.id, fn);
      return fn;
    }
    const url = spec.module, name = spec.name!;
    moduleIds.add(spec.id);
    let loading = modules.get(url);
    if (loading === undefined) {
      // A user module URL: publish warns it cannot analyze this, rightly.
      loading = import(url).catch((error) => {
        modules.delete(url);
        throw new TypeError(
          `Cannot load task module '${url}': ${error?.message ?? error}`,
          { cause: error },
        );
      });
      modules.set(url, loading);
    }
    return loading.then((module) => {
      const fn = module[name];
      if (typeof fn !== "function") {
        throw new TypeError(
          `Module '${url}' has no exported function '${name}': ${
            name in module ? `it is a ${typeof fn}` : "no such export"
          }`,
        );
      }
      functions.set(spec.id, fn as (...args: unknown[]) => unknown);
      return fn as (...args: unknown[]) => unknown;
    });
  }

  function explain(error: unknown, fn: number | FunctionSpec): unknown {
    if (
      (typeof fn === "object" && fn.module !== undefined) ||
      !(error instanceof ReferenceError) || isModuleTask(fn)
    ) {
      return error;
    }
    const match = /^(\S+) is not defined$/.exec(error.message);
    if (match === null) return error;
    error.message = `${match[1]} is not defined: the task uses '${
      match[1]
    }' from the scope it was written in, but a task must be self-contained (its source text runs in the worker). Pass '${
      match[1]
    }' as an argument, or move the function to a module and use fromModule()`;
    return error;
  }

  function isThenable(value: unknown): value is PromiseLike<unknown> {
    return value !== null &&
      (typeof value === "object" || typeof value === "function") &&
      typeof (value as PromiseLike<unknown>).then === "function";
  }

  // Runs one chunk of calls, stopping at the first error.
  async function runChunk(
    fn: (...args: unknown[]) => unknown,
    calls: unknown[][],
  ): Promise<ChunkRecord> {
    const values: unknown[] = [];
    for (const args of calls) {
      try {
        let value = fn(...args);
        if (isThenable(value)) value = await value;
        values.push(value);
      } catch (error) {
        return { values, error: toRecord(error) };
      }
    }
    return { values };
  }

  function isModuleTask(fn: number | FunctionSpec): boolean {
    return typeof fn === "number" && moduleIds.has(fn);
  }

  function onSettled(id: number, status: number, value: unknown): void {
    settle(id, status, value);
    running = -1;
    pump();
  }

  // Runs queued tasks until one is asynchronous or the queue is empty.
  function pump(): void {
    busy = true;
    while (head < queue.length && !dead) {
      const id = queue[head + T.ID] as number;
      const spec = queue[head + T.FN] as number | FunctionSpec;
      const args = queue[head + T.ARGS] as unknown[];
      const chunk = queue[head + T.CHUNK] === 1;
      queue[head + T.ARGS] = undefined;
      head += T.SIZE;
      startedAt = performance.now();
      if (startedAt - lastFlush > FLUSH_MS) flush();
      running = id;
      let value: unknown;
      try {
        const fn = typeof spec === "number"
          ? functions.get(spec) ?? resolve(specs.get(spec)!)
          : resolve(spec);
        if (chunk) {
          value = isThenable(fn)
            ? fn.then((f) => runChunk(f, args as unknown[][]))
            : runChunk(fn, args as unknown[][]);
        } else {
          value = isThenable(fn) ? fn.then((f) => f(...args)) : fn(...args);
        }
      } catch (error) {
        settle(id, P.ERROR, failure(error, spec));
        continue;
      }
      if (isThenable(value)) {
        // Waiting on the task: send what is done, come back when it settles.
        flush();
        const status = chunk ? P.CHUNK : P.OK;
        Promise.resolve(value).then(
          (v) => onSettled(id, status, v),
          (error) => onSettled(id, P.ERROR, failure(error, spec)),
        );
        return;
      }
      settle(id, P.OK, value);
    }
    running = -1;
    busy = false;
    queue = [];
    head = 0;
    flush();
  }

  // Puts a closed stdin in place of Deno's and node's: in a thread it is the
  // program's input, in a process worker the pool's channel (a frame a task
  // took would never run).
  function closeStdin(taken: () => never): void {
    if (connect === undefined) Deno.stdin.close();
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
    const process = (globalThis as unknown as { process?: object }).process;
    if (process !== undefined) {
      Object.defineProperty(process, "stdin", { get: taken });
    }
  }

  // A pool with scoped permissions shares nothing with the program: close
  // what a worker reaches without a permission check (surveyed on Deno
  // 2.9.6). Each is replaced where it lives, on the global scope or its
  // prototypes, so no original stays reachable from JavaScript.
  function closeShared(): void {
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
    // The program's own input (a process worker's stdin is closed always).
    if (connect === undefined) {
      closeStdin(closed("stdin", "it is the program's own input"));
    }
    // A signal listener would take the program's signals: one on SIGINT
    // keeps Ctrl-C from stopping it.
    const signals = closed(
      "Listening to signals",
      "a listener would take the program's own signals",
    );
    replace(Deno, "addSignalListener", { value: signals });
    const process = (globalThis as unknown as {
      process?: Record<string, unknown>;
    })
      .process;
    if (process !== undefined) {
      for (
        const method of [
          "on",
          "addListener",
          "once",
          "prependListener",
          "prependOnceListener",
        ]
      ) {
        const original = process[method] as (...args: unknown[]) => unknown;
        process[method] = function (event: unknown, ...rest: unknown[]) {
          if (typeof event === "string" && event.startsWith("SIG")) signals();
          return original.call(this, event, ...rest);
        };
      }
    }
  }

  function start(port: Endpoint, init: InitMessage): void {
    endpoint = port;
    endpoint.onmessage = (event) => {
      const data = event.data;
      for (let i = 1; i < data.length; i++) queue.push(data[i]);
      if (!busy && ready) pump();
    };
    if (connect !== undefined) {
      closeStdin(() => {
        throw new Deno.errors.NotCapable(
          "stdin is closed in a ProcessPoolExecutor worker: it is the pool's channel to this process",
        );
      });
    }
    if (init.scoped) closeShared();
    // A task that ends its worker must fail only itself: say which one ran
    // before going (whatwg/html#5869: self.close() fires no event at all).
    // Called again by a getter while fatal() sends the last results, they
    // throw instead, so that FATAL still goes out.
    const close = globalThis.close;
    globalThis.close = () => {
      if (inFatal) throw GOING;
      fatal("the task called close()");
      close();
    };
    const exit = Deno.exit;
    Deno.exit = (code?: number): never => {
      if (inFatal) throw GOING;
      fatal(`the task called Deno.exit(${code ?? ""})`);
      return exit(code);
    };
    // The worker is finished either way; preventing the default keeps Deno
    // from printing the error, as the task's future reports it.
    globalThis.addEventListener("error", (event) => {
      event.preventDefault();
      fatal(`uncaught error: ${event.message}`);
    });
    globalThis.addEventListener("unhandledrejection", (event) => {
      event.preventDefault();
      fatal(`unhandled rejection: ${String(event.reason)}`);
    });
    const begin = () => {
      ready = true;
      endpoint.postMessage([P.READY]);
      lastFlush = performance.now();
      pump();
    };
    if (init.initializer === undefined) return begin();
    let value: unknown;
    try {
      const fn = resolve(init.initializer);
      value = isThenable(fn)
        ? fn.then((f) => f(...(init.initargs ?? [])))
        : fn(...(init.initargs ?? []));
    } catch (error) {
      endpoint.postMessage([P.INIT_FAILED, toRecord(error)]);
      return;
    }
    Promise.resolve(value).then(begin, (error) => {
      endpoint.postMessage([P.INIT_FAILED, toRecord(error)]);
    });
  }

  if (connect !== undefined) return connect(start);
  globalThis.addEventListener("message", (event) => {
    const init = (event as MessageEvent<InitMessage>).data;
    start(init.port as unknown as Endpoint, init);
  }, { once: true });
}
