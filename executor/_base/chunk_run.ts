// Runs on the main thread, for every executor: a `map` chunk whose calls
// take futures, or may be retried. The chunk waits for its futures
// (graph.ts), runs as one task, and when a call fails runs again from that
// call, as the retry policy allows: the calls that succeeded never run
// twice. Its outcome is what a chunk's always is — the values in order, up
// to the error of the call that failed for good.
import { Future } from "../../future/future.ts";
import { type Deferred, retryAfter } from "./deferred.ts";
import { whenColumnsReady } from "./graph.ts";
import type { ChunkOutcome } from "./map_run.ts";
import type { RetryPolicy } from "./retry.ts";

/**
 * Runs a chunk's calls through `runChunk` once their futures are done,
 * again from a failed call as `policy` allows.
 *
 * @param runChunk Runs calls (as columns) as one task on the executor.
 * @param deferred The executor's held tasks: the chunk is one of them.
 * @returns The future of the chunk's outcome.
 */
export function heldChunk(
  runChunk: (columns: unknown[][]) => Future<ChunkOutcome>,
  columns: unknown[][],
  policy: RetryPolicy,
  deferred: Deferred,
): Future<ChunkOutcome> {
  const outcome = new Future<ChunkOutcome>();
  deferred.hold(outcome);
  const values: unknown[] = [];
  let current: Future<ChunkOutcome> | undefined;
  let made = 0;
  outcome.addDoneCallback(() => {
    if (outcome.cancelled()) current?.cancel();
  });
  // The calls from the first that has no value yet.
  const attempt = (rest: unknown[][]) => {
    if (outcome.done()) return;
    made++;
    try {
      current = runChunk(rest);
    } catch (error) {
      // The executor cannot take it (broken): the chunk ends here.
      return outcome.setResult({ values, error });
    }
    current.result().then(({ values: got, error }) => {
      values.push(...got);
      if (error === undefined) return outcome.setResult({ values });
      failed(error, rest.map((column) => column.slice(got.length)));
    }, (error) => {
      // Cancelled by the executor (its shutdown): so is the chunk.
      if (current?.cancelled() && outcome.cancel()) return;
      failed(error, rest);
    });
  };
  const failed = (error: unknown, rest: unknown[][]) => {
    if (outcome.done()) return;
    const retry = retryAfter(made, error, policy, undefined);
    if (!retry.again) return outcome.setResult({ values, error: retry.error });
    deferred.retried++;
    if (retry.delay === 0) return attempt(rest);
    const timer = setTimeout(() => attempt(rest), retry.delay);
    outcome.addDoneCallback(() => clearTimeout(timer));
  };
  whenColumnsReady(columns, attempt, (error, cancelled) => {
    if (outcome.done()) return;
    if (cancelled) outcome.cancel();
    else outcome.setResult({ values: [], error });
  }, deferred.owner);
  return outcome;
}
