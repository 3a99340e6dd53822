// Runs on the pool side: a thread worker on `node:worker_threads`, the one
// kind of Deno thread with a heap limit (`resourceLimits`): past it, the
// parent gets ERR_WORKER_OUT_OF_MEMORY and lives. It takes no permission
// set (Deno ignores `deno.permissions` here), so it serves only pools that
// inherit the program's permissions. Reached, like a Web Worker, through a
// private MessagePort (a Web MessagePort under Deno's node:worker_threads).
import type { Worker as NodeWorker } from "node:worker_threads";
import { nodeBuiltin } from "../_pool/node_builtin.ts";
import { privateChannel } from "./channel.ts";
import { workerSource } from "../_worker/source.ts";
import type { SpawnWorker } from "../_pool/transport.ts";
import type { Connect } from "../_worker/endpoint.ts";

let sourceUrl: URL | undefined;

// The worker side, connected by its first message on parentPort, as a
// data: URL (node:worker_threads takes no blob: URL).
function workerUrl(): URL {
  if (sourceUrl === undefined) {
    const connect: Connect = (start) => {
      import("node:worker_threads").then(({ parentPort }) => {
        parentPort!.once("message", (init) => start(init.port, init));
      });
    };
    const bytes = new TextEncoder().encode(workerSource(`${connect}`));
    let binary = "";
    for (const byte of bytes) binary += String.fromCharCode(byte);
    sourceUrl = new URL(`data:text/javascript;base64,${btoa(binary)}`);
  }
  return sourceUrl;
}

/**
 * Starts `node:worker_threads` Workers with `memoryLimit` MB of V8 old
 * generation each (or no limit).
 */
export function nodeThreadSpawner(
  memoryLimit: number | undefined,
): SpawnWorker {
  const resourceLimits = memoryLimit === undefined
    ? undefined
    : { maxOldGenerationSizeMb: memoryLimit };
  return ({ name, initializer, initargs }, events) => {
    const { Worker } = nodeBuiltin<typeof import("node:worker_threads")>(
      "node:worker_threads",
    );
    const worker = new Worker(workerUrl(), { name, resourceLimits });
    const channel = privateChannel(events);
    let stopped = false;
    worker.on("error", (error: Error & { code?: string }) => {
      if (stopped) return;
      events.died(
        error.code === "ERR_WORKER_OUT_OF_MEMORY"
          ? `the worker ran out of memory (memoryLimit: ${memoryLimit} MB)`
          : `uncaught error: ${error.message}`,
      );
    });
    worker.on("exit", (code: number) => {
      if (!stopped) events.died(`the worker exited with code ${code}`);
    });
    // A Web MessagePort: Deno's node:worker_threads carries it as is.
    const port = channel.workerPort;
    const transfer = [port] as unknown as Parameters<
      NodeWorker["postMessage"]
    >[1];
    worker.postMessage(
      { port, initializer, initargs, scoped: false, timerPump: true },
      transfer,
    );
    return {
      send: channel.send,
      // Not awaited: a worker stuck in a synchronous loop never finishes
      // terminating (denoland/deno#35657), and must not hold up shutdown.
      terminate: () => {
        stopped = true;
        channel.close();
        worker.terminate();
      },
    };
  };
}
