// The reaper (executor/_process/reaper.ts), both kinds: once its stdin ends
// it kills the children it still watches, and only those.
import assert from "node:assert/strict";
import { startReaper } from "../../executor/_process/reaper.ts";
import { deadline } from "../_deadline.ts";

const WAIT = 15_000;

function idle(): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["eval", "setInterval(() => {}, 1000)"],
    stdin: "null",
    stdout: "null",
  }).spawn();
}

// "auto" with no shell at the path: a distroless image; the deno one.
for (
  const [kind, shell] of [
    ["sh", undefined],
    ["deno", undefined],
    ["auto", "/nonexistent/sh"],
  ] as const
) {
  Deno.test(`the ${kind} reaper${shell ? ` (no ${shell})` : ""} kills the children it watches when its stdin ends, and no other`, async () => {
    const watched = idle();
    const forgotten = idle();
    try {
      const reaper = startReaper(kind, shell);
      reaper.watch(forgotten.pid);
      reaper.watch(watched.pid);
      reaper.forget(forgotten.pid);
      await deadline(reaper.close(), WAIT, "the reaper to end");
      const status = await deadline(watched.status, WAIT, "the watched child");
      assert.equal(status.signal, "SIGKILL");
      // The reaper kills before it exits: had it killed this one, /proc
      // would show it gone or a zombie by now.
      const stat = Deno.readTextFileSync(`/proc/${forgotten.pid}/stat`);
      assert.doesNotMatch(stat, /^\d+ \(.*\) Z/);
    } finally {
      for (const child of [watched, forgotten]) {
        try {
          child.kill("SIGKILL");
        } catch {
          // Already gone.
        }
        await child.status;
      }
    }
  });
}
