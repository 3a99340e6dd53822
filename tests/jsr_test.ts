// The package as users consume it: `deno publish`'s file list served from a
// local JSR-shaped registry on 127.0.0.1, and a consumer program in a fresh
// folder importing `jsr:@concurrent/futures` through JSR_URL.
import assert from "node:assert/strict";
import { deadline } from "./_deadline.ts";

const root = new URL("../", import.meta.url);
const config = JSON.parse(
  await Deno.readTextFile(new URL("deno.json", root)),
) as {
  name: string;
  version: string;
  exports: Record<string, string>;
  imports: Record<string, string>;
};

// What `deno publish` does to a file before upload: bare specifiers of the
// import map that name a registry package (the executor's "redis") are
// unfurled to the full specifier, as JSR serves them.
function unfurl(file: string, bytes: Uint8Array<ArrayBuffer>) {
  if (!file.endsWith(".ts")) return bytes;
  let text = new TextDecoder().decode(bytes);
  for (const [key, target] of Object.entries(config.imports)) {
    if (!/^(npm|jsr):/.test(target) || key.includes(":")) continue;
    text = text.replaceAll(`from "${key}"`, `from "${target}"`);
  }
  return new TextEncoder().encode(text);
}

// The files `deno publish` would publish, from its own dry run.
async function publishedFiles(): Promise<string[]> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["publish", "--dry-run", "--allow-dirty"],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout) +
    new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, text);
  const prefix = root.href;
  return [...text.matchAll(/(file:\/\/\S+)/g)]
    .map((m) => m[1])
    .filter((href) => href.startsWith(prefix))
    .map((href) => "/" + href.slice(prefix.length));
}

async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(digest)]
    .map((b) => b.toString(16).padStart(2, "0"))
    .join("");
}

const CONSUMER = `
import { asCompleted, fromModule, ThreadPoolExecutor } from "jsr:@concurrent/futures@VERSION";

console.log("resolved:", import.meta.resolve("jsr:@concurrent/futures@VERSION"));
const tasks = fromModule<typeof import("./tasks.ts")>(new URL("./tasks.ts", import.meta.url));
{
  await using pool = new ThreadPoolExecutor({ maxWorkers: 3 });
  console.log("function:", await pool.submit((a: number, b: number) => a * b, 6, 7).result());
  console.log("module:", await pool.submit(tasks.square, 9).result());
  // Start all three workers first, so start-up time does not skew the order.
  await Promise.all([1, 2, 3].map(() => pool.submit(() => new Promise((r) => setTimeout(r, 50))).result()));
  const futures = [3, 1, 2].map((n) => pool.submit(async (ms: number) => {
    await new Promise((r) => setTimeout(r, ms * 60));
    return ms;
  }, n));
  const order = [];
  for await (const future of asCompleted(futures)) order.push(await future.result());
  console.log("asCompleted:", order.join(","));
}
{
  const { RedisExecutor, RedisNode } = await import("jsr:@concurrent/futures@VERSION/redis");
  // The node program resolves too (imported, it does not run).
  await import("jsr:@concurrent/futures@VERSION/redis/node");
  try {
    new RedisExecutor({ url: "http://127.0.0.1:6379" });
  } catch (error) {
    console.log("redis:", typeof RedisNode, (error as Error).name);
  }
}
{
  await using sandbox = new ThreadPoolExecutor({ permissions: "none" });
  try {
    await sandbox.submit(() => Deno.readTextFile("/etc/hostname")).result();
    console.log("none: read allowed");
  } catch (error) {
    console.log("none:", (error as Error).name, error instanceof Deno.errors.NotCapable);
  }
}
`;

Deno.test({
  name:
    "jsr:@concurrent/futures works from a local registry, as users import it",
  async fn() {
    const files = await publishedFiles();
    assert.ok(files.includes("/mod.ts"), files.join(" "));
    const name = config.name; // "@concurrent/futures"
    const contents = new Map<string, Uint8Array<ArrayBuffer>>();
    const manifest: Record<string, { size: number; checksum: string }> = {};
    for (const file of files) {
      const bytes = unfurl(
        file,
        await Deno.readFile(new URL("." + file, root)),
      );
      contents.set(file, bytes);
      manifest[file] = {
        size: bytes.length,
        checksum: `sha256-${await sha256(bytes)}`,
      };
    }
    const requests: string[] = [];
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      (request) => {
        const path = decodeURIComponent(new URL(request.url).pathname);
        requests.push(path);
        const json = (body: unknown) => Response.json(body);
        if (path === `/${name}/meta.json`) {
          return json({
            scope: name.slice(1).split("/")[0],
            name: name.split("/")[1],
            latest: config.version,
            versions: { [config.version]: {} },
          });
        }
        if (path === `/${name}/${config.version}_meta.json`) {
          return json({ manifest, exports: config.exports });
        }
        const prefix = `/${name}/${config.version}`;
        const body = path.startsWith(prefix + "/")
          ? contents.get(path.slice(prefix.length))
          : undefined;
        return body === undefined
          ? new Response("not found", { status: 404 })
          : new Response(body);
      },
    );
    const dir = await Deno.makeTempDir({ prefix: "consumer_" });
    try {
      await Deno.writeTextFile(
        `${dir}/deno.json`,
        JSON.stringify({ unstable: ["worker-options"] }),
      );
      await Deno.writeTextFile(
        `${dir}/tasks.ts`,
        "export function square(n: number): number {\n  return n * n;\n}\n",
      );
      await Deno.writeTextFile(
        `${dir}/main.ts`,
        CONSUMER.replaceAll("VERSION", config.version),
      );
      const registry = `http://127.0.0.1:${server.addr.port}`;
      const output = await deadline(
        new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", "--config", `${dir}/deno.json`, `${dir}/main.ts`],
          cwd: dir,
          env: {
            JSR_URL: registry,
            DENO_DIR: `${dir}/deno_dir`,
            NO_COLOR: "1",
          },
          stdout: "piped",
          stderr: "piped",
        }).output(),
        60_000,
        "the consumer program",
      );
      const stdout = new TextDecoder().decode(output.stdout);
      const stderr = new TextDecoder().decode(output.stderr);
      assert.equal(output.code, 0, stdout + stderr);
      assert.match(stdout, new RegExp(`resolved: ${registry}/${name}/`));
      assert.match(stdout, /function: 42/);
      assert.match(stdout, /module: 81/);
      assert.match(stdout, /asCompleted: 1,2,3/);
      assert.match(stdout, /none: NotCapable true/);
      assert.match(stdout, /redis: function TypeError/);
      assert.ok(requests.includes(`/${name}/${config.version}/mod.ts`));
    } finally {
      await server.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
