/**
 * The live dashboard of a Redis queue as a program: the page, `/api/snapshot`
 * and `/metrics` of every node and every submitter of one queue, read from
 * Redis alone (the nodes write the task history to `<queue>:events`, a
 * capped stream), so a dashboard started later, or restarted, shows the
 * past. Runs until SIGINT or SIGTERM.
 *
 * ```sh
 * deno run -A jsr:@concurrent/futures/redis/dashboard --url redis://127.0.0.1:6379 \
 *   --queue jobs --port 8787 [--hostname 127.0.0.1] [--token SECRET]
 * ```
 *
 * It prints one line with the page's URL when it is ready.
 *
 * @module
 */
import { runDashboard } from "./_dashboard/program.ts";

if (import.meta.main) Deno.exit(await runDashboard(Deno.args));
