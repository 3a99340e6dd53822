// Runs on the pool side: the source text a worker runs, `workerMain` and its
// parts joined into one self-contained program (each part uses only globals
// and its parameters, so its source stands alone).
import { PROTOCOL } from "../_wire/protocol.ts";
import { toRecord } from "../_wire/error_record.ts";
import { Functions } from "./functions.ts";
import { Outbox } from "./outbox.ts";
import { TaskLoop } from "./task_loop.ts";
import { ProgressReporter } from "./progress.ts";
import { Sandbox } from "./sandbox.ts";
import { workerMain } from "./main.ts";

/**
 * The source of a worker program.
 *
 * @param connect The source of a `Connect` function (a process child's
 * stdio); without it, a Web Worker's first message connects it.
 */
export function workerSource(connect?: string): string {
  const parts = `{
  Functions: ${Functions},
  Outbox: ${Outbox},
  TaskLoop: ${TaskLoop},
  ProgressReporter: ${ProgressReporter},
  toRecord: ${toRecord},
  Sandbox: ${Sandbox},
}`;
  const args = [JSON.stringify(PROTOCOL), parts];
  if (connect !== undefined) args.push(connect);
  return `(${workerMain})(${args.join(", ")});`;
}
