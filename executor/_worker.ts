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
  const functions = new Map<number, (...args: unknown[]) => unknown>();
  // Every spec received: the pool sends a spec once, so a task whose module
  // or export was missing the first time must be resolved again by id.
  const specs = new Map<number, FunctionSpec>();
  const modules = new Map<string, Promise<Record<string, unknown>>>();
  // Ids of module tasks: their ReferenceErrors are the module's own.
  const moduleIds = new Set<number>();
  let endpoint: Endpoint;
  // Tasks in the flat form of `_protocol.ts`, P.TASK_FIELDS values each.
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

  function flush(): void {
    if (outbox.length === 1 || dead) return;
    lastFlush = performance.now();
    const message = outbox as FromWorker;
    const transfer = transfers;
    outbox = [P.RESULTS];
    transfers = [];
    try {
      endpoint.postMessage(message, transfer);
    } catch {
      // One result cannot be cloned: send each alone, failing only those.
      for (let i = 1; i < message.length; i += P.RESULT_FIELDS) {
        const one = message.slice(i, i + P.RESULT_FIELDS);
        one.unshift(P.RESULTS);
        try {
          endpoint.postMessage(one as FromWorker, transferIn(one[3]));
        } catch (error) {
          one[2] = P.ERROR;
          one[3] = toRecord(error);
          endpoint.postMessage(one as FromWorker);
        }
      }
    }
  }

  function transferIn(value: unknown): Transferable[] {
    return transfers.filter((t) => containsBuffer(value, t));
  }

  function containsBuffer(value: unknown, t: Transferable): boolean {
    if (value === t) return true;
    if (value === null || typeof value !== "object") return false;
    if (ArrayBuffer.isView(value)) return value.buffer === t;
    return Object.values(value).some((v) => containsBuffer(v, t));
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
    outbox.push(id, status, value, performance.now() - startedAt);
  }

  function fatal(reason: string): void {
    if (dead) return;
    flush();
    dead = true;
    endpoint.postMessage([P.FATAL, running, reason]);
  }

  function toRecord(error: unknown): ErrorRecord | RawThrow {
    if (!(error instanceof Error)) {
      try {
        structuredClone(error);
        return { error: false, value: error };
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
    if ("cause" in error && error.cause !== undefined) {
      if (error.cause instanceof Error) {
        record.cause = toRecord(error.cause);
        record.causeIsError = true;
      } else {
        try {
          record.cause = structuredClone(error.cause);
        } catch {
          record.cause = String(error.cause);
        }
      }
    }
    return record;
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
    running = -1;
    settle(id, status, value);
    pump();
  }

  // Runs queued tasks until one is asynchronous or the queue is empty.
  function pump(): void {
    busy = true;
    while (head < queue.length && !dead) {
      const id = queue[head] as number;
      const spec = queue[head + 1] as number | FunctionSpec;
      const args = queue[head + 2] as unknown[];
      const chunk = queue[head + 3] === 1;
      queue[head + 2] = undefined;
      head += P.TASK_FIELDS;
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
        settle(id, P.ERROR, toRecord(explain(error, spec)));
        continue;
      }
      if (isThenable(value)) {
        // Waiting on the task: send what is done, come back when it settles.
        flush();
        const status = chunk ? P.CHUNK : P.OK;
        Promise.resolve(value).then(
          (v) => onSettled(id, status, v),
          (error) => onSettled(id, P.ERROR, toRecord(explain(error, spec))),
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

  function start(port: Endpoint, init: InitMessage): void {
    endpoint = port;
    endpoint.onmessage = (event) => {
      const data = event.data;
      for (let i = 1; i < data.length; i++) queue.push(data[i]);
      if (!busy && ready) pump();
    };
    // A task that ends its worker must fail only itself: say which one ran
    // before going (whatwg/html#5869: self.close() fires no event at all).
    const close = globalThis.close;
    globalThis.close = () => {
      fatal("the task called close()");
      close();
    };
    const exit = Deno.exit;
    Deno.exit = (code?: number): never => {
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
