/**
 * Runs untrusted plugin code in a pool with no permissions at all.
 *
 * The plugins could do anything Deno allows; in a `"none"` pool a file read,
 * a fetch or an environment lookup fails with `Deno.errors.NotCapable`,
 * while plain computation runs. `maxTasksPerWorker: 1` gives every plugin
 * call a fresh worker, so one plugin cannot leave globals for the next.
 *
 * Scoped permissions need Deno's `worker-options` unstable feature: this
 * repository's deno.json has `"unstable": ["worker-options"]`; elsewhere,
 * run with `--unstable-worker-options`. Run it with no `--allow-*` flag:
 *
 *     deno run examples/sandbox.ts
 *
 * @module
 */
import { ThreadPoolExecutor } from "@concurrent/futures";

// Plugins as a host application might receive them: self-contained functions.
const plugins = {
  wordCount: (text: string): number =>
    text.split(/\s+/).filter((word) => word !== "").length,
  readPasswords: (): Promise<string> => Deno.readTextFile("/etc/passwd"),
  leaveSomethingBehind: (): void => {
    (globalThis as { stash?: string }).stash = "left by a plugin";
  },
  lookForLeftovers: (): string | undefined =>
    (globalThis as { stash?: string }).stash,
};

await using pool = new ThreadPoolExecutor({
  permissions: "none",
  maxTasksPerWorker: 1,
});

const words = await pool.submit(plugins.wordCount, "the quick brown fox")
  .result();
console.log(`wordCount: ${words}`);

try {
  await pool.submit(plugins.readPasswords).result();
  throw new Error("the sandbox let a plugin read /etc/passwd");
} catch (error) {
  if (!(error instanceof Deno.errors.NotCapable)) throw error;
  console.log(`readPasswords: ${error.name}: ${error.message}`);
}

await pool.submit(plugins.leaveSomethingBehind).result();
const leftovers = await pool.submit(plugins.lookForLeftovers).result();
console.log(`lookForLeftovers: ${leftovers ?? "nothing"}`);
