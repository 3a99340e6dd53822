// Runs on the pool side, and starts the reaper: a tiny `deno` process that
// kills a pool's children when the program dies, even by SIGKILL.
// The reaper, one per pool, is told each child's pid.
// When the pool's program dies, even by SIGKILL, the reaper's stdin ends and
// it kills the children: a child stuck in a synchronous loop never reads its
// own stdin, so it could not notice by itself.
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

/** Starts a reaper; it does not keep the program alive. */
export function startReaper(): Reaper {
  const url = `data:application/javascript;base64,${
    btoa(`(${reaperMain})();`)
  }`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", "--no-config", "--quiet", "--allow-run", url],
    stdin: "piped",
    stdout: "null",
    stderr: "inherit",
  }).spawn();
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
