// Runs in the programs of executor/redis/ (the node, the dashboard): what a
// program hears and says, and the start every command line has.

/** What a program hears and says. */
export interface ProgramIo {
  /**
   * Calls `listener` at each stop request (SIGINT, SIGTERM); returns its
   * remover.
   */
  onStop(listener: () => void): () => void;
  log(line: string): void;
  error(line: string): void;
}

/** Deno's signals and console, for a real program. */
export const PROCESS_IO: ProgramIo = {
  onStop(listener) {
    const signals = ["SIGINT", "SIGTERM"] as const;
    for (const signal of signals) Deno.addSignalListener(signal, listener);
    return () => {
      for (const signal of signals) {
        Deno.removeSignalListener(signal, listener);
      }
    };
  },
  log: (line) => console.log(line),
  error: (line) => console.error(line),
};

/**
 * Parses a command line: its flags, or the exit code when there is nothing
 * to run (2 after saying what is wrong; 0 after the usage, for `--help`).
 *
 * @param parse Returns the flags, undefined for `--help`; throws a
 * message-bearing error for a bad command line.
 */
export function commandLine<T>(
  args: readonly string[],
  parse: (args: readonly string[]) => T | undefined,
  io: ProgramIo,
  usage: string,
): T | number {
  let parsed: T | undefined;
  try {
    parsed = parse(args);
  } catch (error) {
    io.error((error as Error).message);
    return 2;
  }
  if (parsed === undefined) {
    io.log(usage);
    return 0;
  }
  return parsed;
}
