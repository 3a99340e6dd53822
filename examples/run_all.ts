// `deno task example`: runs every other program in examples/, one after the
// other, each bounded in time; exits 1 if any fails.
const here = new URL(".", import.meta.url);
const self = new URL(import.meta.url).pathname.split("/").pop();
const files = [...Deno.readDirSync(here)]
  .map((entry) => entry.name)
  // _files are helpers of the examples, not examples.
  .filter((name) =>
    name.endsWith(".ts") && name !== self && !name.startsWith("_")
  )
  .sort();

const LIMIT_MS = 60_000;
let failed = 0;
for (const name of files) {
  console.log(`\n=== examples/${name} ===`);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(name, here).pathname],
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), LIMIT_MS);
  const { code } = await child.status;
  clearTimeout(timer);
  if (code !== 0) {
    failed++;
    console.log(`examples/${name} exited with ${code}`);
  }
}
console.log(`\n${files.length - failed} of ${files.length} examples passed`);
if (failed > 0) Deno.exit(1);
