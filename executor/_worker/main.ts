// Inside a worker: its entry point. `workerMain` takes the init message,
// closes what a task must not reach, runs the initializer, then hands task
// records to the task loop, whose outcomes go out through the outbox. It is
// shipped as source text with its parts (source.ts), so it uses only
// globals and its parameters.
import type { InitMessage, Protocol } from "../_wire/protocol.ts";
import type { toRecord } from "../_wire/error_record.ts";
import type { Connect, Endpoint } from "./endpoint.ts";
import type { Functions } from "./functions.ts";
import type { Outbox } from "./outbox.ts";
import type { TaskLoop } from "./task_loop.ts";
import type { ProgressReporter } from "./progress.ts";
import type { Sandbox } from "./sandbox.ts";

/** The worker's parts, passed in since the source cannot import them. */
export interface WorkerParts {
  Functions: typeof Functions;
  Outbox: typeof Outbox;
  TaskLoop: typeof TaskLoop;
  ProgressReporter: typeof ProgressReporter;
  toRecord: typeof toRecord;
  Sandbox: typeof Sandbox;
}

/**
 * Runs inside a worker: takes the init message, then runs tasks in order,
 * one at a time, and sends their results back in batches.
 *
 * @param P The protocol constants.
 * @param parts The worker's parts.
 * @param connect How it reaches the pool; by default the first message a
 * Web Worker receives carries a private MessagePort.
 */
export function workerMain(
  P: Protocol,
  parts: WorkerParts,
  connect?: Connect,
): void {
  function start(endpoint: Endpoint, init: InitMessage): void {
    // Before any task runs: what a task may not reach.
    const process = connect !== undefined;
    if (process || init.scoped) parts.Sandbox.closeStdin(process);
    if (init.scoped) parts.Sandbox.closeShared();
    const functions = new parts.Functions();
    const outbox = new parts.Outbox(P, endpoint, parts.toRecord);
    const progress = new parts.ProgressReporter(P, outbox);
    const loop = new parts.TaskLoop(
      P,
      functions,
      outbox,
      progress,
      parts.toRecord,
    );
    // reportProgress(value): a global of every worker, and what the
    // exported reportProgress calls inside one.
    const report = (value: unknown) => progress.report(loop.running, value);
    Object.defineProperty(globalThis, "reportProgress", {
      value: report,
      writable: true,
      configurable: true,
    });
    Object.defineProperty(
      globalThis,
      Symbol.for("@concurrent/futures/reportProgress"),
      { value: report },
    );
    endpoint.onmessage = (event) => loop.receive(event.data);
    const fatal = (reason: string) => outbox.fatal(reason, loop.running);

    // A task that ends its worker must fail only itself: say which one ran
    // before going (whatwg/html#5869: self.close() fires no event at all).
    const close = globalThis.close;
    if (typeof close === "function") {
      globalThis.close = () => {
        outbox.checkAlive();
        fatal("the task called close()");
        close();
      };
    }
    const exit = Deno.exit;
    Deno.exit = (code?: number): never => {
      outbox.checkAlive();
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
      endpoint.postMessage([P.READY]);
      loop.start(init.timerPump === true);
    };
    const failed = (error: unknown) =>
      endpoint.postMessage([P.INIT_FAILED, parts.toRecord(error)]);
    if (init.initializer === undefined) return begin();
    let value: unknown;
    try {
      const fn = functions.resolve(init.initializer);
      const args = init.initargs ?? [];
      value = fn instanceof Promise ? fn.then((f) => f(...args)) : fn(...args);
    } catch (error) {
      return failed(error);
    }
    Promise.resolve(value).then(begin, failed);
  }

  if (connect !== undefined) return connect(start);
  globalThis.addEventListener("message", (event) => {
    const init = (event as MessageEvent<InitMessage>).data;
    start(init.port as unknown as Endpoint, init);
  }, { once: true });
}
