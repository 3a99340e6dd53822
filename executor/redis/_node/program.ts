// The node program (`node_main.ts`) as a function of its command line and
// of the signals it hears, so that a test can run it in-process, with its
// sanitizers, and send it a "signal" without a process.
import { ProcessPoolExecutor } from "../../process_pool_executor.ts";
import { ThreadPoolExecutor } from "../../thread_pool_executor.ts";
import type { PoolExecutor } from "../../pool_executor.ts";
import type { Permissions } from "../../_pool/permissions.ts";
import { RedisNode } from "../redis_node.ts";
import { withModuleAccess } from "./module_access.ts";
import {
  commandLine,
  PROCESS_IO as PROGRAM_IO,
  type ProgramIo,
} from "../_program_io.ts";

/** The program's help text. */
export const USAGE =
  `Usage: deno run -A jsr:@concurrent/futures/redis/node [options]

  --url URL               redis:// or rediss:// (default redis://127.0.0.1:6379)
  --queue NAME            the queue to run (default concurrent-futures)
  --executor KIND         process (default) or thread
  --max-workers N         workers of the local executor (default: the cores)
  --permissions SET       none (default) or inherit: what a task may do
  --allow-read[=PATHS]    widens the tasks' permissions, as deno run's flags
  --allow-write[=PATHS]     do (a value after = or a space, comma-separated;
  --allow-net[=HOSTS]       alone: all of it); also --allow-env, --allow-sys,
  --allow-import[=HOSTS]    --allow-run, --allow-ffi
  --allow-module PREFIX   a URL prefix of module tasks to run (repeatable);
                          its host is importable by the tasks
  --label NAME            a label this node offers (repeatable): it also runs
                          tasks with labels it has all of, those first
  --max-task-time MS      every task is stopped past this (default: none)
  --memory-limit MB       each worker's heap (process executor; thread only
                          with --permissions inherit)
  --grace MS              on SIGTERM/SIGINT, how long running tasks may take
                          before they are stopped and handed back (default
                          30000); a second signal stops the node at once
  --prefetch N|auto       tasks taken beyond the free workers (default auto:
                          only for functions seen to finish quickly)
  --history N             task events the queue's stream keeps for its
                          dashboard (default 10000; 0: write none)
  --connect-timeout MS    how long Redis may be unreachable (default 10000)
  --help                  this text`;

/** How long running tasks may finish after a first signal, by default. */
const DEFAULT_GRACE_MS = 30_000;

type PermissionKey = keyof Deno.PermissionOptionsObject;
const PERMISSION_KEYS: readonly PermissionKey[] = [
  "read",
  "write",
  "net",
  "env",
  "sys",
  "run",
  "ffi",
  "import",
];

// The flags that take a value (the --allow-* ones may go without).
const VALUE_FLAGS = new Set([
  "--url",
  "--queue",
  "--executor",
  "--permissions",
  "--max-workers",
  "--prefetch",
  "--history",
  "--connect-timeout",
  "--max-task-time",
  "--memory-limit",
  "--grace",
  "--allow-module",
  "--label",
]);

/** The command line, checked. */
export interface NodeArgs {
  url?: string;
  queue?: string;
  executor: "process" | "thread";
  maxWorkers?: number;
  /** What `--permissions` starts from, widened by the `--allow-*` flags. */
  permissions: "none" | "inherit";
  /** The `--allow-*` flags: a whole permission, or a list. */
  grants: Partial<Record<PermissionKey, true | string[]>>;
  allowModules: string[];
  labels: string[];
  prefetch?: number | "auto";
  history?: number;
  connectTimeout?: number;
  maxTaskTime?: number;
  memoryLimit?: number;
  grace: number;
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
    grants: {},
    allowModules: [],
    labels: [],
    grace: DEFAULT_GRACE_MS,
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--help") return undefined;
    const eq = arg.indexOf("=");
    const flag = eq < 0 ? arg : arg.slice(0, eq);
    const grant = PERMISSION_KEYS.find((key) => flag === `--allow-${key}`);
    if (grant !== undefined) {
      // deno run's form: a value after = or a space; alone, the whole.
      const next = args[i + 1];
      const value = eq >= 0
        ? arg.slice(eq + 1)
        : next !== undefined && !next.startsWith("--")
        ? args[++i]
        : undefined;
      widen(parsed, grant, value);
      continue;
    }
    if (!VALUE_FLAGS.has(flag)) {
      throw new TypeError(`Unknown flag ${flag}\n\n${USAGE}`);
    }
    const value = eq >= 0 ? arg.slice(eq + 1) : args[++i];
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
        parsed.prefetch = value === "auto" ? value : Number(value);
        break;
      case "--history":
        parsed.history = Number(value);
        break;
      case "--connect-timeout":
        parsed.connectTimeout = Number(value);
        break;
      case "--max-task-time":
        parsed.maxTaskTime = Number(value);
        break;
      case "--memory-limit":
        parsed.memoryLimit = Number(value);
        break;
      case "--grace":
        parsed.grace = Number(value);
        break;
      case "--allow-module":
        parsed.allowModules.push(value);
        break;
      case "--label":
        parsed.labels.push(value);
        break;
      default:
        throw new TypeError(`Unknown flag ${flag}\n\n${USAGE}`);
    }
  }
  if (!(parsed.grace > 0)) {
    throw new TypeError(
      `--grace must be a number of milliseconds > 0: current value is ${parsed.grace}`,
    );
  }
  return parsed;
}

function widen(
  parsed: NodeArgs,
  key: PermissionKey,
  value: string | undefined,
): void {
  if (value === undefined || value === "") {
    parsed.grants[key] = true;
    return;
  }
  const had = parsed.grants[key];
  if (had === true) return;
  const items = value.split(",").filter((item) => item !== "");
  parsed.grants[key] = [...had ?? [], ...items];
}

/**
 * The permissions of the node's pool: `--permissions`, widened by the
 * `--allow-*` flags and by the hosts (or paths) of `--allow-module`.
 */
export function poolPermissions(parsed: NodeArgs): Permissions {
  if (parsed.permissions === "inherit") return "inherit";
  const set: Deno.PermissionOptionsObject = {};
  for (const [key, grant] of Object.entries(parsed.grants)) {
    set[key as PermissionKey] = grant === true ? true : [...grant];
  }
  return withModuleAccess(
    Object.keys(set).length === 0 ? "none" : set,
    parsed.allowModules,
  );
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
export interface NodeProgramIo extends ProgramIo {
  /** A second stop request: end now. */
  exitNow(): void;
}

/** Deno's signals and console, for the real program. */
export const PROCESS_IO: NodeProgramIo = {
  ...PROGRAM_IO,
  exitNow: () => Deno.exit(130),
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
  const parsed = commandLine(args, parseArgs, io, USAGE);
  if (typeof parsed === "number") return parsed;
  const {
    executor: kind,
    maxWorkers,
    memoryLimit,
    grace,
    permissions: _,
    grants: __,
    ...options
  } = parsed;
  const permissions = poolPermissions(parsed);
  const Pool = kind === "thread" ? ThreadPoolExecutor : ProcessPoolExecutor;
  let pool: PoolExecutor;
  let node: RedisNode;
  try {
    pool = new Pool({ maxWorkers, permissions, memoryLimit });
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
  // The first request lets running tasks finish within the grace; a second
  // ends the program at once.
  const unlisten = io.onStop(() => {
    if (stopping) return io.exitNow();
    stopping = true;
    io.log(
      `RedisNode ${node.id} stopping: takes no more tasks; running ones have ${grace} ms to finish (a second signal stops it now)`,
    );
    stopped.resolve();
  });
  try {
    await Promise.race([node.ready, stopped.promise]);
    if (!stopping) {
      const workers = maxWorkers ?? navigator.hardwareConcurrency;
      io.log(
        `RedisNode ${node.id} ready: queue ${
          options.queue ?? "concurrent-futures"
        }, ${kind} executor, ${workers} workers, permissions ${
          typeof permissions === "string"
            ? permissions
            : JSON.stringify(permissions)
        }${node.labels.length > 0 ? `, labels ${node.labels.join(" ")}` : ""}`,
      );
      await stopped.promise;
    }
    return 0;
  } catch (error) {
    io.error(`RedisNode ${node.id}: ${(error as Error).message}`);
    return 1;
  } finally {
    await node.close({ grace });
    await pool.shutdown();
    unlisten();
  }
}
