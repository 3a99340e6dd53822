// The executor side: a queued task that no live node can take — none serves
// the queue, or none has its labels — fails once none has been seen for
// unroutableTimeout (SPEC "Labels"), never a silent wait.
import { BrokenExecutorError } from "../../../future/errors.ts";
import type { LiveNodes } from "./live_nodes.ts";
import type { RemoteTask } from "./remote_task.ts";

/**
 * How often the live nodes are read while tasks are queued: the resolution
 * of unroutableTimeout.
 */
export const ROUTE_EVERY_MS = 1_000;

/**
 * Counts, for each queued task, the time it was watched with no live node
 * that could take it; fails those past `timeout`. Time not watched (Redis
 * away, no read) does not count: that is connectTimeout's.
 *
 * @returns the tasks it failed, whose entries must leave the queue.
 */
export function failUnroutable(
  queued: Iterable<RemoteTask>,
  nodes: LiveNodes,
  at: number,
  timeout: number,
  queue: string,
): RemoteTask[] {
  const failed: RemoteTask[] = [];
  for (const task of queued) {
    const watched = Math.min(at - task.watchedAt, 2 * ROUTE_EVERY_MS);
    task.watchedAt = at;
    if (nodes.canRun(task.labels)) {
      task.unroutableMs = 0;
      continue;
    }
    task.unroutableMs += watched;
    if (task.unroutableMs < timeout) continue;
    const labels = task.labels.length === 0
      ? ""
      : ` with the labels ${task.labels.join(", ")}`;
    task.fail(
      new BrokenExecutorError(
        `No node serves the queue '${queue}'${labels}: none was seen for ${timeout} ms (unroutableTimeout); is a node running, on the same queue${
          labels === "" ? "" : " with those labels"
        }?`,
      ),
    );
    failed.push(task);
  }
  return failed;
}
