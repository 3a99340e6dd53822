// Runs on the pool side: a thread worker is a Web Worker running
// `workerMain`, reached through a private MessagePort (a task's own
// postMessage reaches the Worker object, which nobody reads).
import { workerSource } from "../_worker/source.ts";
import type { SpawnWorker } from "../_pool/transport.ts";
import { privateChannel } from "./channel.ts";

let workerUrl: string | undefined;

// The worker side ships inline, as a blob URL made from its source: it
// loads with no read, net or import permission (a "none" pool) and from any
// origin this module was imported from (jsr:, https:, file:).
function sourceUrl(): string {
  workerUrl ??= URL.createObjectURL(
    new Blob([workerSource()], { type: "text/javascript" }),
  );
  return workerUrl;
}

/**
 * Starts Web Workers; `permissions` is what `new Worker` takes as
 * `deno.permissions`, or `undefined` to inherit without asking for the
 * `worker-options` feature.
 */
export function threadSpawner(
  permissions: Deno.PermissionOptions | undefined,
): SpawnWorker {
  const scoped = permissions !== undefined;
  return ({ name, initializer, initargs }, events) => {
    const worker = new Worker(sourceUrl(), {
      type: "module",
      name,
      ...(scoped ? { deno: { permissions } } : {}),
    });
    const channel = privateChannel(events);
    // denoland/deno#12221: an error event nobody prevents crashes the parent.
    worker.onerror = (event) => {
      event.preventDefault();
      events.died(event.message);
    };
    worker.onmessageerror = (event) => event.preventDefault();
    const port = channel.workerPort;
    worker.postMessage({ port, initializer, initargs, scoped }, [port]);
    return {
      send: channel.send,
      terminate: () => {
        channel.close();
        worker.terminate();
      },
    };
  };
}
