// Runs on the pool side, and starts the reaper: a tiny process that kills a
// pool's children when the program dies, even by SIGKILL.
// The reaper, one per pool, is told each child's pid.
// When the pool's program dies, even by SIGKILL, the reaper's stdin ends and
// it kills the children: a child stuck in a synchronous loop never reads its
// own stdin, so it could not notice by itself.

// The reaper as a POSIX shell script: it starts in ~0.3 ms and ends in ~1 ms,
// where a `deno` one costs a runtime's start (~15 ms of CPU, beside the
// pool's first child) and ~3 ms to end. Lines are "+pid" and "-pid"; the
// signals a terminal sends the whole group leave it to see its stdin end.
const SH_REAPER = `trap "" HUP INT TERM
p=" "
while read -r l; do
  case $l in
    +*) p="$p\${l#+} " ;;
    -*) case $p in *" \${l#-} "*) p="\${p%% \${l#-} *} \${p#* \${l#-} }" ;; esac ;;
  esac
done
[ "$p" = " " ] || kill -9 $p 2>/dev/null`;

// The same reaper in Deno, where there is no /bin/sh or the program may not
// run it (`--allow-run=deno`).
function reaperMain(): void {
  const pids = new Set<number>();
  const decoder = new TextDecoder();
  let rest = "";
  (async () => {
    for await (const chunk of Deno.stdin.readable) {
      const lines = (rest + decoder.decode(chunk)).split("\n");
      rest = lines.pop()!;
      for (const line of lines) {
        const pid = Number(line.slice(1));
        if (line[0] === "+") pids.add(pid);
        else pids.delete(pid);
      }
    }
    for (const pid of pids) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
  })();
}

/** What the pool tells the reaper. */
export interface Reaper {
  watch(pid: number): void;
  forget(pid: number): void;
  close(): Promise<void>;
}

/**
 * Which reaper to start: `"auto"` is the shell one when the program may run
 * the shell and the shell is there (a distroless image has none), else the
 * deno one.
 */
export type ReaperKind = "auto" | "sh" | "deno";

/**
 * Starts a reaper; it does not keep the program alive.
 *
 * @param kind Which one.
 * @param shell The shell's path (a test names one that is not there).
 */
export function startReaper(
  kind: ReaperKind = "auto",
  shell = "/bin/sh",
): Reaper {
  const spawn = (command: string, args: string[]) =>
    new Deno.Command(command, {
      args,
      stdin: "piped",
      stdout: "null",
      stderr: "inherit",
    }).spawn();
  const deno = () =>
    spawn(Deno.execPath(), [
      "run",
      "--no-prompt",
      "--no-config",
      "--quiet",
      "--allow-run",
      `data:application/javascript;base64,${btoa(`(${reaperMain})();`)}`,
    ]);
  let child: Deno.ChildProcess;
  if (kind === "deno" || (kind === "auto" && !canRun(shell))) child = deno();
  else {
    try {
      child = spawn(shell, ["-c", SH_REAPER]);
    } catch (error) {
      if (kind === "sh") throw error;
      child = deno();
    }
  }
  // It must not keep this program alive.
  child.unref();
  const writer = child.stdin.getWriter();
  const encoder = new TextEncoder();
  const say = (line: string) =>
    writer.write(encoder.encode(line + "\n")).catch(() => {});
  return {
    watch: (pid) => say(`+${pid}`),
    forget: (pid) => say(`-${pid}`),
    close: async () => {
      await writer.close().catch(() => {});
      // Unref'd, its exit would not keep the event loop waiting for it.
      child.ref();
      await child.status;
    },
  };
}

function canRun(shell: string): boolean {
  if (Deno.build.os === "windows") return false;
  const { state } = Deno.permissions.querySync({
    name: "run",
    command: shell,
  });
  return state === "granted";
}
