// The layout's whiteboard (ARCHITECTURE.md, "Which folder may import
// which") made executable: every relative import under future/, executor/
// and dashboard/ (and mod.ts) is read, and a folder that imports one it may not,
// or a cycle between files, fails here with the line that does it.
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);

/**
 * Each folder (relative to the repository) and the folders its files may
 * import besides their own. A folder not listed may import nothing outside
 * itself.
 */
const MAY_IMPORT: Record<string, string[]> = {
  ".": ["future", "executor", "dashboard"],
  "future": [],
  "executor/_wire": [],
  "executor/_worker": ["executor/_wire"],
  "executor/_base": ["future", "executor", "executor/_wire"],
  "executor/_pool": ["future", "executor", "executor/_wire", "executor/_base"],
  "executor/_thread": ["executor/_pool", "executor/_wire", "executor/_worker"],
  "executor/_process": [
    "executor/_pool",
    "executor/_wire",
    "executor/_worker",
  ],
  "executor": [
    "future",
    "executor/_wire",
    "executor/_base",
    "executor/_pool",
    "executor/_thread",
    "executor/_process",
  ],
  // The dashboard watches executors; none of them imports it. A pool is
  // watched through its tap (executor/_pool/pool_view.ts), the one part of
  // _pool/ it reads.
  "dashboard": ["future", "executor", "executor/_pool"],
  // The Redis side: the engine knows only npm:redis; the two sides meet only
  // in Redis, through _wire/, so _executor/ and _node/ never import each
  // other.
  "executor/redis/_engine": [],
  // (and of dashboard/ its public files: a task event keeps a progress
  // value as the page shows it)
  "executor/redis/_wire": ["future", "executor", "executor/_wire", "dashboard"],
  "executor/redis/_executor": [
    "future",
    "executor",
    "executor/_base",
    "executor/redis/_engine",
    "executor/redis/_wire",
  ],
  "executor/redis/_node": [
    "future",
    "executor",
    "executor/_base",
    "executor/_pool",
    "executor/_wire",
    "executor/redis",
    "executor/redis/_engine",
    "executor/redis/_wire",
  ],
  // A Redis queue's dashboard reads Redis alone: the engine, the keys and
  // records, the live nodes' reader; of dashboard/, only its public files
  // (checked below).
  "executor/redis/_dashboard": [
    "future",
    "executor",
    "executor/_base",
    "executor/redis",
    "executor/redis/_engine",
    "executor/redis/_executor",
    "executor/redis/_wire",
    "dashboard",
  ],
  "executor/redis": [
    ".",
    "future",
    "executor",
    "executor/_base",
    "executor/_pool",
    "executor/redis/_engine",
    "executor/redis/_executor",
    "executor/redis/_node",
    "executor/redis/_wire",
    "executor/redis/_dashboard",
    "dashboard",
  ],
};

const IMPORT =
  /(?:^|\n)\s*(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\s+from\s+)?["'](\.{1,2}\/[^"']+)["']/g;

/** Every library file, by its path relative to the repository. */
function libraryFiles(): string[] {
  const files = ["mod.ts"];
  const walk = (dir: string) => {
    for (const entry of Deno.readDirSync(new URL(dir, ROOT))) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) walk(path);
      else if (entry.name.endsWith(".ts")) files.push(path);
    }
  };
  walk("future");
  walk("executor");
  walk("dashboard");
  return files;
}

const folderOf = (path: string) =>
  path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : ".";

/** The library files a file imports, relative to the repository. */
function importsOf(path: string): string[] {
  const source = Deno.readTextFileSync(new URL(path, ROOT));
  const base = new URL(path, ROOT);
  return [...source.matchAll(IMPORT)].map((match) =>
    new URL(match[1], base).href.slice(ROOT.href.length)
  );
}

Deno.test("Layout: every folder imports only the folders ARCHITECTURE.md allows", () => {
  const wrong: string[] = [];
  for (const file of libraryFiles()) {
    const from = folderOf(file);
    const allowed = new Set([from, ...(MAY_IMPORT[from] ?? [])]);
    for (const target of importsOf(file)) {
      if (!allowed.has(folderOf(target))) wrong.push(`${file} -> ${target}`);
    }
  }
  assert.deepEqual(wrong, []);
});

Deno.test("Layout: no file imports itself back through others (no import cycle)", () => {
  const graph = new Map(libraryFiles().map((f) => [f, importsOf(f)]));
  const cycles: string[] = [];
  const state = new Map<string, "open" | "done">();
  const visit = (file: string, path: string[]) => {
    if (state.get(file) === "done") return;
    if (state.get(file) === "open") {
      cycles.push([...path.slice(path.indexOf(file)), file].join(" -> "));
      return;
    }
    state.set(file, "open");
    for (const next of graph.get(file) ?? []) visit(next, [...path, file]);
    state.set(file, "done");
  };
  for (const file of graph.keys()) visit(file, []);
  assert.deepEqual(cycles, []);
});

Deno.test("Layout: mod.ts and everything outside executor/redis/ import nothing of it (mod.ts has no dependency)", () => {
  const wrong = libraryFiles()
    .filter((file) => !file.startsWith("executor/redis/"))
    .flatMap((file) =>
      importsOf(file)
        .filter((target) => target.startsWith("executor/redis/"))
        .map((target) => `${file} -> ${target}`)
    );
  assert.deepEqual(wrong, []);
});

Deno.test("Layout: executor/ imports of dashboard/ only its files without _ (the Redis queue's source registers itself), and only from executor/redis/", () => {
  const wrong = libraryFiles()
    .filter((file) => file.startsWith("executor/"))
    .flatMap((file) =>
      importsOf(file)
        .filter((target) =>
          target.startsWith("dashboard/") &&
          (target.startsWith("dashboard/_") ||
            !file.startsWith("executor/redis/"))
        )
        .map((target) => `${file} -> ${target}`)
    );
  assert.deepEqual(wrong, []);
});

Deno.test("Layout: dashboard/ reads a pool only through executor/_pool/pool_view.ts", () => {
  const wrong = libraryFiles()
    .filter((file) => file.startsWith("dashboard/"))
    .flatMap((file) =>
      importsOf(file)
        .filter((target) =>
          target.startsWith("executor/_pool/") &&
          target !== "executor/_pool/pool_view.ts"
        )
        .map((target) => `${file} -> ${target}`)
    );
  assert.deepEqual(wrong, []);
});
