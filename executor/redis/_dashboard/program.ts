// The Redis dashboard program (`dashboard_main.ts`) as a function of its
// command line and of the signals it hears, so that a test can run it
// in-process. It serves one queue's QueueSource, which reads Redis alone:
// the program keeps nothing, so a restarted one shows the same history.
import { DEFAULT_CONNECT_TIMEOUT } from "../_engine/connect.ts";
import { checkUrl, DEFAULT_QUEUE, DEFAULT_URL } from "../_options.ts";
import {
  type Dashboard,
  serveSource,
} from "../../../dashboard/serve_source.ts";
import { QueueSource } from "./queue_source.ts";
import { commandLine, PROCESS_IO, type ProgramIo } from "../_program_io.ts";

/** The program's help text. */
export const USAGE =
  `Usage: deno run -A jsr:@concurrent/futures/redis/dashboard [options]

  --url URL               redis:// or rediss:// (default redis://127.0.0.1:6379)
  --queue NAME            the queue to show (default concurrent-futures)
  --port N                the TCP port to listen on, 0 for a free one
                          (default 8787)
  --hostname HOST         the address to listen on (default 127.0.0.1); the
                          page shows task errors and stacks: elsewhere, give
                          a --token
  --token SECRET          every request must carry it (?token= or
                          Authorization: Bearer)
  --connect-timeout MS    how long Redis may take to answer (default 10000)
  --help                  this text`;

const DEFAULT_PORT = 8787;

/** The command line, checked. */
export interface DashboardArgs {
  url: string;
  queue: string;
  port: number;
  hostname: string;
  token: string | undefined;
  connectTimeout: number;
}

/**
 * Reads the command line.
 *
 * @param args The arguments, as `Deno.args`.
 * @returns What they ask for, or `undefined` for `--help`.
 * @throws {TypeError} For an unknown flag or a bad value, naming the flag.
 */
export function parseDashboardArgs(
  args: readonly string[],
): DashboardArgs | undefined {
  const parsed: DashboardArgs = {
    url: DEFAULT_URL,
    queue: DEFAULT_QUEUE,
    port: DEFAULT_PORT,
    hostname: "127.0.0.1",
    token: undefined,
    connectTimeout: DEFAULT_CONNECT_TIMEOUT,
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--help") return undefined;
    const eq = arg.indexOf("=");
    const flag = eq < 0 ? arg : arg.slice(0, eq);
    if (
      ![
        "--url",
        "--queue",
        "--port",
        "--hostname",
        "--token",
        "--connect-timeout",
      ].includes(flag)
    ) {
      throw new TypeError(`Unknown flag ${flag}\n\n${USAGE}`);
    }
    const value = eq >= 0 ? arg.slice(eq + 1) : args[++i];
    if (value === undefined) throw new TypeError(`${flag} needs a value`);
    switch (flag) {
      case "--url":
        try {
          parsed.url = checkUrl(value, "the Redis dashboard");
        } catch (error) {
          if (!(error instanceof TypeError)) throw error;
          throw new TypeError(
            `--url must be a redis:// or rediss:// URL: current value is ${value}`,
          );
        }
        break;
      case "--queue":
        parsed.queue = nonEmpty(flag, value);
        break;
      case "--port": {
        const port = Number(value);
        if (!/^\d+$/.test(value) || port > 65535) {
          throw new TypeError(
            `--port must be an integer from 0 to 65535: current value is ${value}`,
          );
        }
        parsed.port = port;
        break;
      }
      case "--hostname":
        parsed.hostname = nonEmpty(flag, value);
        break;
      case "--token":
        parsed.token = nonEmpty(flag, value);
        break;
      case "--connect-timeout": {
        const ms = Number(value);
        if (!(Number.isFinite(ms) && ms > 0)) {
          throw new TypeError(
            `--connect-timeout must be a number of milliseconds > 0: current value is ${value}`,
          );
        }
        parsed.connectTimeout = ms;
        break;
      }
    }
  }
  return parsed;
}

function nonEmpty(flag: string, value: string): string {
  if (value === "") throw new TypeError(`${flag} must not be empty`);
  return value;
}

/** What the program hears and says. */
export type DashboardProgramIo = ProgramIo;

/**
 * Serves the dashboard of a queue until the first stop request, then
 * closes it: the server, its reads and its connection to Redis.
 *
 * @param args The command line.
 * @param io Where stop requests come from, and where lines go.
 * @returns The exit code: 0 after a stop, 2 for a bad command line, 1 when
 * it cannot listen or reach Redis.
 */
export async function runDashboard(
  args: readonly string[],
  io: DashboardProgramIo = PROCESS_IO,
): Promise<number> {
  const parsed = commandLine(args, parseDashboardArgs, io, USAGE);
  if (typeof parsed === "number") return parsed;
  const { url, queue, port, hostname, token, connectTimeout } = parsed;
  const stopped = Promise.withResolvers<void>();
  const unlisten = io.onStop(() => stopped.resolve());
  const source = new QueueSource({ url, queue, connectTimeout });
  let board: Dashboard | undefined;
  try {
    try {
      board = serveSource(source, { port, hostname, token });
    } catch (error) {
      io.error(
        error instanceof Deno.errors.AddrInUse
          ? `--port ${port} is taken on ${hostname}: choose another, or 0 for a free one`
          : `Cannot listen on ${hostname}:${port}: ${(error as Error).message}`,
      );
      return 1;
    }
    // Redis answers before the program says it is ready.
    const first = await Promise.race([
      source.snapshot().then(() => undefined, (error: Error) => error),
      stopped.promise.then(() => null),
    ]);
    if (first === null) return 0;
    if (first !== undefined) {
      io.error(`Cannot read queue ${queue} at ${url}: ${first.message}`);
      return 1;
    }
    io.log(
      `Redis dashboard of queue ${queue} ready: ${board.url}${
        token === undefined ? "" : " (add ?token=… to open it)"
      }`,
    );
    await stopped.promise;
    return 0;
  } finally {
    if (board === undefined) await source.close();
    else await board.close();
    unlisten();
  }
}
