// A program of a test's own, run as a child: for what would end or hang the
// test process itself (an out-of-memory, an endless loop, a signal, a
// program's permissions).

/** How a test program ended. */
export interface ProgramRun {
  code: number;
  signal: Deno.Signal | null;
  stdout: string;
  stderr: string;
  /** ms from its start to its end. */
  ms: number;
}

/** How to run it. */
export interface ProgramOptions {
  /** `deno run` flags before the file. */
  flags?: string[];
  /** Written to its stdin, which then closes. */
  stdin?: string;
  /** It is killed with SIGKILL after this many ms. */
  limitMs?: number;
}

const MOD = new URL("../mod.ts", import.meta.url).href;

/**
 * Writes `source` to a temp dir (each `MOD` in it replaced by the URL of
 * mod.ts), runs it with `deno run`, and removes the dir.
 */
export async function runProgram(
  source: string,
  options: ProgramOptions = {},
): Promise<ProgramRun> {
  const { flags = ["-A", "--no-config"], stdin = "", limitMs = 30_000 } =
    options;
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/main.ts`;
    await Deno.writeTextFile(file, source.replaceAll("MOD", MOD));
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", ...flags, file],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    const started = performance.now();
    const timer = setTimeout(() => child.kill("SIGKILL"), limitMs);
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin)).catch(() => {});
    await writer.close().catch(() => {});
    const output = await child.output();
    clearTimeout(timer);
    const decoder = new TextDecoder();
    return {
      code: output.code,
      signal: output.signal,
      stdout: decoder.decode(output.stdout),
      stderr: decoder.decode(output.stderr),
      ms: performance.now() - started,
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
