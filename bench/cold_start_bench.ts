// Cold start: a new pool to its first result, against a new raw Worker to
// its first reply.
import { type Contender, peers, pool, raw } from "./_contenders.ts";

function coldStart(contender: Contender, baseline = false) {
  Deno.bench({
    name: contender.name,
    group: "cold start (new pool to first result)",
    baseline,
    n: 10,
    warmup: 2,
    async fn(b) {
      b.start();
      const runner = await contender.start(1);
      b.end();
      await runner.close();
    },
  });
}

coldStart(raw, true);
coldStart(pool);
for (const peer of peers) coldStart(peer);

// A program's start: `deno run` of a file that imports the library, to its
// exit, against one that imports nothing. (mod.ts loads no node: module until
// a pool needs one: a static import of one wakes Deno's node compatibility.)
const dir = Deno.makeTempDirSync();
const programs = {
  bare: `${dir}/bare.ts`,
  library: `${dir}/library.ts`,
};
Deno.writeTextFileSync(programs.bare, "console.log(1);\n");
Deno.writeTextFileSync(
  programs.library,
  `import { ThreadPoolExecutor } from "${
    new URL("../mod.ts", import.meta.url).href
  }";\nconsole.log(typeof ThreadPoolExecutor);\n`,
);
for (const [name, file] of Object.entries(programs)) {
  Deno.bench({
    name: name === "bare"
      ? "deno run, importing nothing"
      : "deno run, importing mod.ts",
    group: "program start (deno run to exit)",
    baseline: name === "bare",
    n: 20,
    warmup: 2,
    async fn() {
      const { success } = await new Deno.Command(Deno.execPath(), {
        args: ["run", "--no-config", "--quiet", file],
        stdout: "null",
      }).output();
      if (!success) throw new Error(`${file} failed`);
    },
  });
}
globalThis.addEventListener("unload", () => {
  Deno.removeSync(dir, { recursive: true });
});
