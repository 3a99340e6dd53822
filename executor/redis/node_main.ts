/**
 * A `RedisNode` as a program: runs a queue's tasks on a local pool until
 * SIGINT or SIGTERM, then finishes what it runs and leaves.
 *
 * ```sh
 * deno run -A jsr:@concurrent/futures/redis/node --url redis://127.0.0.1:6379 \
 *   --queue jobs --executor process --max-workers 4 --permissions none \
 *   --allow-module https://example.com/tasks/
 * ```
 *
 * It prints one line when it is ready. A thread executor with
 * `--permissions none` needs Deno's `--unstable-worker-options` flag; a
 * process executor does not.
 *
 * @module
 */
import { runNode } from "./_node/program.ts";

if (import.meta.main) Deno.exit(await runNode(Deno.args));
