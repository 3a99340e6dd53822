/**
 * The same futures across machines: `RedisExecutor` submits tasks to a
 * queue in Redis (a stream with a consumer group), and `RedisNode`s on any
 * machine run them on their own pool executors.
 *
 * ```ts ignore
 * import { ProcessPoolExecutor } from "jsr:@concurrent/futures";
 * import { RedisExecutor, RedisNode } from "jsr:@concurrent/futures/redis";
 *
 * // On each machine that runs tasks (or: deno run -A jsr:@concurrent/futures/redis/node):
 * await using pool = new ProcessPoolExecutor({ permissions: "none" });
 * await using node = new RedisNode({ queue: "jobs", executor: pool });
 *
 * // Where work is submitted:
 * await using cluster = new RedisExecutor({ queue: "jobs" });
 * console.log(await cluster.submit((a: number, b: number) => a + b, 1, 2).result());
 * ```
 *
 * @module
 */
export { RedisExecutor, type RedisExecutorOptions } from "./redis_executor.ts";
export type { NodeStats, RedisExecutorStats } from "./redis_executor_stats.ts";
export {
  RedisNode,
  type RedisNodeCloseOptions,
  type RedisNodeOptions,
} from "./redis_node.ts";
// The types its signatures use (Executor, Future, Task, RunOptions, ...),
// so this entry point's documentation is complete on its own.
export type * from "../../mod.ts";
