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
import { ProcessPoolExecutor, ThreadPoolExecutor } from "../../mod.ts";
import type { PoolExecutor } from "../pool_executor.ts";
import { RedisNode } from "./redis_node.ts";

const USAGE = `Usage: deno run -A jsr:@concurrent/futures/redis/node [options]

  --url URL             redis:// or rediss:// (default redis://127.0.0.1:6379)
  --queue NAME          the queue to run (default concurrent-futures)
  --executor KIND       process (default) or thread
  --max-workers N       workers of the local executor (default: the cores)
  --permissions SET     none (default) or inherit: what a task may do
  --allow-module PREFIX a URL prefix of module tasks to run (repeatable)
  --prefetch N          tasks taken beyond the free workers (default 0)
  --help                this text`;

/** The command line, checked. */
interface NodeArgs {
  url?: string;
  queue?: string;
  executor: "process" | "thread";
  maxWorkers?: number;
  permissions: "none" | "inherit";
  allowModules: string[];
  prefetch?: number;
}

/**
 * Reads the command line.
 *
 * @param args The arguments, as `Deno.args`.
 * @returns What they ask for, or `undefined` for `--help`.
 * @throws {TypeError} For an unknown flag or a bad value, naming it.
 */
function parseArgs(args: readonly string[]): NodeArgs | undefined {
  const parsed: NodeArgs = {
    executor: "process",
    permissions: "none",
    allowModules: [],
  };
  for (let i = 0; i < args.length; i++) {
    const flag = args[i];
    if (flag === "--help") return undefined;
    const value = args[++i];
    if (value === undefined) throw new TypeError(`${flag} needs a value`);
    switch (flag) {
      case "--url":
        parsed.url = value;
        break;
      case "--queue":
        parsed.queue = value;
        break;
      case "--executor":
        parsed.executor = oneOf(flag, value, ["process", "thread"] as const);
        break;
      case "--permissions":
        parsed.permissions = oneOf(flag, value, ["none", "inherit"] as const);
        break;
      case "--max-workers":
        parsed.maxWorkers = Number(value);
        break;
      case "--prefetch":
        parsed.prefetch = Number(value);
        break;
      case "--allow-module":
        parsed.allowModules.push(value);
        break;
      default:
        throw new TypeError(`Unknown flag ${flag}\n\n${USAGE}`);
    }
  }
  return parsed;
}

function oneOf<T extends string>(
  flag: string,
  value: string,
  choices: readonly T[],
): T {
  if (!(choices as readonly string[]).includes(value)) {
    throw new TypeError(
      `${flag} must be ${choices.join(" or ")}: current value is ${value}`,
    );
  }
  return value as T;
}

/**
 * Runs a node until SIGINT or SIGTERM.
 *
 * @param args The command line.
 * @returns The exit code.
 */
async function main(args: readonly string[]): Promise<number> {
  const parsed = parseArgs(args);
  if (parsed === undefined) {
    console.log(USAGE);
    return 0;
  }
  const { executor: kind, maxWorkers, permissions, ...options } = parsed;
  const Pool = kind === "thread" ? ThreadPoolExecutor : ProcessPoolExecutor;
  const pool: PoolExecutor = new Pool({ maxWorkers, permissions });
  const node = new RedisNode({ ...options, executor: pool });
  const stopped = Promise.withResolvers<void>();
  const signals = ["SIGINT", "SIGTERM"] as const;
  let stopping = false;
  // The first signal lets running tasks finish; a second ends the program.
  const stop = () => {
    if (stopping) Deno.exit(130);
    stopping = true;
    stopped.resolve();
  };
  for (const signal of signals) Deno.addSignalListener(signal, stop);
  try {
    await node.ready;
    const workers = maxWorkers ?? navigator.hardwareConcurrency;
    console.log(
      `RedisNode ${node.id} ready: queue ${
        options.queue ?? "concurrent-futures"
      }, ${kind} executor, ${workers} workers, permissions ${permissions}`,
    );
    await stopped.promise;
    return 0;
  } catch (error) {
    console.error(`RedisNode ${node.id}: ${(error as Error).message}`);
    return 1;
  } finally {
    await node.close();
    await pool.shutdown();
    for (const signal of signals) Deno.removeSignalListener(signal, stop);
  }
}

if (import.meta.main) {
  let code: number;
  try {
    code = await main(Deno.args);
  } catch (error) {
    console.error((error as Error).message);
    code = 2;
  }
  Deno.exit(code);
}
