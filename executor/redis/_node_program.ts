// The node program (`node_main.ts`) as a function of its command line and
// of the signals it hears, so that a test can run it in-process, with its
// sanitizers, and send it a "signal" without a process.
import { ProcessPoolExecutor } from "../process_pool_executor.ts";
import { ThreadPoolExecutor } from "../thread_pool_executor.ts";
import type { PoolExecutor } from "../pool_executor.ts";
import { RedisNode } from "./redis_node.ts";

/** The program's help text. */
export const USAGE =
  `Usage: deno run -A jsr:@concurrent/futures/redis/node [options]

  --url URL               redis:// or rediss:// (default redis://127.0.0.1:6379)
  --queue NAME            the queue to run (default concurrent-futures)
  --executor KIND         process (default) or thread
  --max-workers N         workers of the local executor (default: the cores)
  --permissions SET       none (default) or inherit: what a task may do
  --allow-module PREFIX   a URL prefix of module tasks to run (repeatable)
  --prefetch N            tasks taken beyond the free workers (default 0)
  --connect-timeout MS    how long Redis may be unreachable (default 10000)
  --help                  this text`;

/** The command line, checked. */
export interface NodeArgs {
  url?: string;
  queue?: string;
  executor: "process" | "thread";
  maxWorkers?: number;
  permissions: "none" | "inherit";
  allowModules: string[];
  prefetch?: number;
  connectTimeout?: number;
}

/**
 * Reads the command line.
 *
 * @param args The arguments, as `Deno.args`.
 * @returns What they ask for, or `undefined` for `--help`.
 * @throws {TypeError} For an unknown flag or a bad value, naming it.
 */
export function parseArgs(args: readonly string[]): NodeArgs | undefined {
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
      case "--connect-timeout":
        parsed.connectTimeout = Number(value);
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

/** What the program hears and says. */
export interface NodeProgramIo {
  /**
   * Calls `listener` at each stop request (SIGINT, SIGTERM); returns its
   * remover.
   */
  onStop(listener: () => void): () => void;
  /** A second stop request: end now. */
  exitNow(): void;
  log(line: string): void;
  error(line: string): void;
}

/** Deno's signals and console, for the real program. */
export const PROCESS_IO: NodeProgramIo = {
  onStop(listener) {
    const signals = ["SIGINT", "SIGTERM"] as const;
    for (const signal of signals) Deno.addSignalListener(signal, listener);
    return () => {
      for (const signal of signals) {
        Deno.removeSignalListener(signal, listener);
      }
    };
  },
  exitNow: () => Deno.exit(130),
  log: (line) => console.log(line),
  error: (line) => console.error(line),
};

/**
 * Runs a node until the first stop request, then closes it: it takes no
 * more work and finishes what runs; a second request ends it at once.
 *
 * @param args The command line.
 * @param io Where stop requests come from, and where lines go.
 * @returns The exit code.
 */
export async function runNode(
  args: readonly string[],
  io: NodeProgramIo = PROCESS_IO,
): Promise<number> {
  let parsed: NodeArgs | undefined;
  try {
    parsed = parseArgs(args);
  } catch (error) {
    io.error((error as Error).message);
    return 2;
  }
  if (parsed === undefined) {
    io.log(USAGE);
    return 0;
  }
  const { executor: kind, maxWorkers, permissions, ...options } = parsed;
  const Pool = kind === "thread" ? ThreadPoolExecutor : ProcessPoolExecutor;
  let pool: PoolExecutor;
  let node: RedisNode;
  try {
    pool = new Pool({ maxWorkers, permissions });
    try {
      node = new RedisNode({ ...options, executor: pool });
    } catch (error) {
      await pool.shutdown();
      throw error;
    }
  } catch (error) {
    io.error((error as Error).message);
    return 2;
  }
  const stopped = Promise.withResolvers<void>();
  let stopping = false;
  // The first request lets running tasks finish; a second ends the program.
  const unlisten = io.onStop(() => {
    if (stopping) return io.exitNow();
    stopping = true;
    stopped.resolve();
  });
  try {
    await Promise.race([node.ready, stopped.promise]);
    if (!stopping) {
      const workers = maxWorkers ?? navigator.hardwareConcurrency;
      io.log(
        `RedisNode ${node.id} ready: queue ${
          options.queue ?? "concurrent-futures"
        }, ${kind} executor, ${workers} workers, permissions ${permissions}`,
      );
      await stopped.promise;
    }
    return 0;
  } catch (error) {
    io.error(`RedisNode ${node.id}: ${(error as Error).message}`);
    return 1;
  } finally {
    await node.close();
    await pool.shutdown();
    unlisten();
  }
}
