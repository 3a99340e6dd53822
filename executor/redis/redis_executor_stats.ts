/**
 * `RedisExecutorStats`: what a `RedisExecutor`'s `stats()` returns.
 *
 * @module
 */
import type { ExecutorStats } from "../stats.ts";

/** A live node of the queue, as it last announced itself (every second). */
export interface NodeStats {
  /** Its id: its consumer name in the queue's group. */
  id: string;
  /** Its labels, sorted. */
  labels: string[];
  /** Its executor's workers. */
  workers: number;
  /** Tasks it runs now (of any executor). */
  busy: number;
  /** Tasks it answered with a value since it started. */
  completed: number;
  /** Tasks it answered with an error since it started. */
  failed: number;
}

/** `ExecutorStats`, and the queue's live nodes. */
export interface RedisExecutorStats extends ExecutorStats {
  /** One entry per live node of the queue, as last read from Redis. */
  nodes: NodeStats[];
}
