// The `permissions` option of ThreadPoolExecutor
// (executor/_pool/permissions.ts).
// What only a whole process can show (narrow flags, the worker-options
// feature off, an import by URL) runs in a child `deno` process.
import assert from "node:assert/strict";
import { ThreadPoolExecutor } from "../../mod.ts";
import { deadline } from "../_deadline.ts";

const MOD = new URL("../../mod.ts", import.meta.url).href;
const ROOT = new URL("../../", import.meta.url);
const WAIT = 10_000;
const decoder = new TextDecoder();

interface Output {
  code: number;
  stdout: string;
  stderr: string;
}

// Runs `deno <args>`; killed if it outlives the deadline.
async function runDeno(
  args: string[],
  what: string,
  env: Record<string, string> = {},
): Promise<Output> {
  const controller = new AbortController();
  const child = new Deno.Command(Deno.execPath(), {
    args,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
    signal: controller.signal,
  }).output();
  try {
    const { code, stdout, stderr } = await deadline(child, 30_000, what);
    return {
      code,
      stdout: decoder.decode(stdout),
      stderr: decoder.decode(stderr),
    };
  } catch (error) {
    controller.abort();
    await child.catch(() => {});
    throw error;
  }
}

// A temporary folder holding `files`; removed when disposed.
async function tempDir(
  files: Record<string, string> = {},
): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.realPath(await Deno.makeTempDir());
  for (const [name, text] of Object.entries(files)) {
    await Deno.mkdir(`${path}/${name}`.replace(/\/[^/]*$/, ""), {
      recursive: true,
    });
    await Deno.writeTextFile(`${path}/${name}`, text);
  }
  return {
    path,
    [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }),
  };
}

const WITH_FEATURE = JSON.stringify({ unstable: ["worker-options"] });
const WITHOUT_FEATURE = "{}";

// Constructs a pool for each [label, permissions] in Deno.args[0] and prints
// one JSON object: label -> "ok" or "<instanceof NotCapable> name: message".
const CONSTRUCT = `
import { ThreadPoolExecutor } from "${MOD}";
const out = {};
for (const [label, permissions] of JSON.parse(Deno.args[0])) {
  try {
    const pool = new ThreadPoolExecutor({ permissions });
    await pool.shutdown();
    out[label] = "ok";
  } catch (error) {
    out[label] = \`\${error instanceof Deno.errors.NotCapable} \${error.name}: \${error.message}\`;
  }
}
console.log(JSON.stringify(out));
`;

// Prints a marker, constructs a pool with Deno.args[0] as permissions,
// prints a second marker, then runs one task.
const CONSTRUCT_THEN_RUN = `
import { ThreadPoolExecutor } from "${MOD}";
console.log("before construction");
const pool = new ThreadPoolExecutor({ permissions: JSON.parse(Deno.args[0]) });
console.log("after construction");
console.log("task result", await pool.submit(() => 6 * 7).result());
await pool.shutdown();
`;

// Records the options of every `new Worker` while `fn` runs.
async function recordWorkerOptions(
  fn: () => Promise<void>,
): Promise<WorkerOptions[]> {
  const Original = globalThis.Worker;
  const calls: WorkerOptions[] = [];
  globalThis.Worker = class extends Original {
    constructor(url: string | URL, options?: WorkerOptions) {
      calls.push(options ?? {});
      super(url, options);
    }
  };
  try {
    await fn();
  } finally {
    globalThis.Worker = Original;
  }
  return calls;
}

const ALL_KEYS = [
  "env",
  "ffi",
  "import",
  "net",
  "read",
  "run",
  "sys",
  "write",
];

// ---------------------------------------------------------------- "inherit"

Deno.test("ThreadPoolExecutor({ permissions: 'inherit' }) never passes deno.permissions to new Worker", async () => {
  const allInherit = Object.fromEntries(
    ALL_KEYS.map((key) => [key, "inherit"]),
  );
  for (const permissions of [undefined, "inherit" as const, allInherit]) {
    const calls = await recordWorkerOptions(async () => {
      await using pool = new ThreadPoolExecutor({ permissions, maxWorkers: 1 });
      const sum = pool.submit((a: number, b: number) => a + b, 1, 2);
      assert.equal(await deadline(sum.result(), WAIT, "inherit task"), 3);
    });
    assert.ok(calls.length >= 1, "a worker was started");
    for (const options of calls) {
      assert.equal(options.deno, undefined, JSON.stringify(permissions));
    }
  }
});

Deno.test("ThreadPoolExecutor({ permissions: 'inherit' }) runs tasks in a program without the worker-options feature", async () => {
  await using dir = await tempDir({
    "deno.json": WITHOUT_FEATURE,
    "main.ts": CONSTRUCT_THEN_RUN,
  });
  const allInherit = Object.fromEntries(
    ALL_KEYS.map((key) => [key, "inherit"]),
  );
  for (const permissions of ["inherit", allInherit]) {
    const out = await runDeno([
      "run",
      "--no-lock",
      "--config",
      `${dir.path}/deno.json`,
      "-A",
      `${dir.path}/main.ts`,
      JSON.stringify(permissions),
    ], "child without the feature, inherit");
    assert.equal(out.code, 0, out.stderr);
    assert.equal(
      out.stdout,
      "before construction\nafter construction\ntask result 42\n",
    );
  }
});

// ------------------------------------------------- worker-options feature off

Deno.test("ThreadPoolExecutor({ permissions: 'none' }) without the worker-options feature ends the program at construction, before any task", async () => {
  await using dir = await tempDir({
    "deno.json": WITHOUT_FEATURE,
    "main.ts": CONSTRUCT_THEN_RUN,
  });
  for (const permissions of ["none", { read: "inherit" }]) {
    const out = await runDeno([
      "run",
      "--no-lock",
      "--config",
      `${dir.path}/deno.json`,
      "-A",
      `${dir.path}/main.ts`,
      JSON.stringify(permissions),
    ], "child without the feature, scoped");
    assert.equal(out.code, 70, out.stderr);
    assert.equal(out.stdout, "before construction\n");
    assert.match(out.stderr, /--unstable-worker-options/);
  }
});

// ------------------------------------------------------ checks at construction

Deno.test("ThreadPoolExecutor() throws TypeError naming an unknown permission key", () => {
  assert.throws(
    () =>
      new ThreadPoolExecutor({
        permissions: { reed: true } as Deno.PermissionOptionsObject,
      }),
    {
      name: "TypeError",
      message:
        "Cannot create ThreadPoolExecutor as 'permissions.reed' is not a permission: the keys are read, write, net, env, run, ffi, sys, import",
    },
  );
});

Deno.test("ThreadPoolExecutor() throws TypeError naming the key of a value of the wrong type", () => {
  const cases: [unknown, RegExp][] = [
    [
      { read: "yes" },
      /'permissions\.read' must be true, false, "inherit" or a list of strings or URLs: current value is "yes" \(string\)/,
    ],
    [
      { net: [8000] },
      /'permissions\.net' must be true, false, "inherit" or a list of strings: current value is \[object Array\]/,
    ],
    [{ env: [new URL("file:///x")] }, /'permissions\.env' must be/],
    [{ write: null }, /'permissions\.write' must be/],
    [
      "all",
      /'permissions' must be "inherit", "none" or an object: current value is "all" \(string\)/,
    ],
    [["read"], /'permissions' must be "inherit", "none" or an object/],
  ];
  for (const [permissions, message] of cases) {
    assert.throws(
      () =>
        new ThreadPoolExecutor({
          permissions: permissions as Deno.PermissionOptionsObject,
        }),
      (error: Error) =>
        error instanceof TypeError && message.test(error.message),
      JSON.stringify(permissions),
    );
  }
});

Deno.test("ThreadPoolExecutor() throws TypeError naming the key of an item Deno refuses", () => {
  assert.throws(
    () => new ThreadPoolExecutor({ permissions: { sys: ["bogus" as "cpus"] } }),
    (error: Error) =>
      error instanceof TypeError &&
      /'permissions\.sys'/.test(error.message) &&
      /unknown system info kind "bogus"/.test(error.message),
  );
  assert.throws(
    () => new ThreadPoolExecutor({ permissions: { net: ["a b::c"] } }),
    (error: Error) =>
      error instanceof TypeError && /'permissions\.net'/.test(error.message),
  );
});

Deno.test("ThreadPoolExecutor() refuses a permission set wider than the program's, naming the permission", async () => {
  await using dir = await tempDir({
    "deno.json": WITH_FEATURE,
    "main.ts": CONSTRUCT,
    "data/a.txt": "a",
  });
  const cases = [
    ["readAll", { read: true }],
    ["netAll", { net: true }],
    ["envAll", { env: true }],
    ["readEtc", { read: ["/etc"] }],
    ["readData", { read: [`${dir.path}/data`] }],
    ["readInherit", { read: "inherit" }],
    ["none", "none"],
  ];
  const out = await runDeno([
    "run",
    "--no-lock",
    "--config",
    `${dir.path}/deno.json`,
    `--allow-read=${dir.path}`,
    `${dir.path}/main.ts`,
    JSON.stringify(cases),
  ], "child with --allow-read=<dir>");
  assert.equal(out.code, 0, out.stderr);
  const results = JSON.parse(out.stdout);
  const wider = (key: string, what: string, flag: string) =>
    `true NotCapable: Cannot create ThreadPoolExecutor as 'permissions.${key}' is wider than the program's own permissions: it asks for ${what}, which the program does not have (a worker never gets more than its parent: run with ${flag}, or ask for less)`;
  assert.deepEqual(results, {
    readAll: wider("read", "all read access", "--allow-read"),
    netAll: wider("net", "all net access", "--allow-net"),
    envAll: wider("env", "all env access", "--allow-env"),
    readEtc: wider("read", 'read access to "/etc"', "--allow-read=/etc"),
    readData: "ok",
    readInherit: "ok",
    none: "ok",
  });
});

Deno.test("ThreadPoolExecutor() refuses at construction a listed folder holding a path the program was denied", async () => {
  await using dir = await tempDir({
    "deno.json": WITH_FEATURE,
    "main.ts": CONSTRUCT,
    "data/secret/s.txt": "s",
  });
  const cases = [
    ["readData", { read: [`${dir.path}/data`] }],
    ["readAll", { read: true }],
  ];
  const out = await runDeno([
    "run",
    "--no-lock",
    "--config",
    `${dir.path}/deno.json`,
    "--allow-read",
    `--deny-read=${dir.path}/data/secret`,
    `${dir.path}/main.ts`,
    JSON.stringify(cases),
  ], "child with --deny-read");
  assert.equal(out.code, 0, out.stderr);
  assert.deepEqual(JSON.parse(out.stdout), {
    readData:
      "true NotCapable: Cannot create ThreadPoolExecutor as Deno refuses 'permissions.read' for a worker: Can't escalate parent thread permissions",
    // Deno keeps the parent's deny-list in the worker.
    readAll: "ok",
  });
});

Deno.test("ThreadPoolExecutor() passes every permission key to new Worker, an omitted one as false", async () => {
  const calls = await recordWorkerOptions(async () => {
    await using pool = new ThreadPoolExecutor({
      permissions: { read: true, net: ["127.0.0.1:1"] },
      maxWorkers: 1,
    });
    assert.equal(
      await deadline(pool.submit(() => 1).result(), WAIT, "task"),
      1,
    );
  });
  const scoped = calls.filter((options) => options.deno !== undefined);
  assert.ok(scoped.length >= 1);
  for (const options of scoped) {
    assert.deepEqual(options.deno?.permissions, {
      read: true,
      write: false,
      net: ["127.0.0.1:1"],
      env: false,
      run: false,
      ffi: false,
      sys: false,
      import: false,
    });
  }
});

// ------------------------------------------------------ denied inside a task

// A pool with `permissions`, on which `fn(...args)` runs.
async function outcome<A extends unknown[]>(
  permissions: Deno.PermissionOptions,
  fn: (...args: A) => unknown,
  ...args: A
): Promise<{ value?: unknown; error?: unknown; after: unknown }> {
  await using pool = new ThreadPoolExecutor({ permissions, maxWorkers: 1 });
  let value: unknown, error: unknown;
  try {
    value = await deadline(pool.submit(fn, ...args).result(), WAIT, "task");
  } catch (caught) {
    error = caught;
  }
  // The pool goes on after a denied operation.
  const after = await deadline(
    pool.submit(() => "still running").result(),
    WAIT,
    "task after",
  );
  return { value, error, after };
}

function assertNotCapable(
  result: { error?: unknown; after: unknown },
  access: string,
): void {
  assert.ok(
    result.error instanceof Deno.errors.NotCapable,
    `expected NotCapable, got ${result.error}`,
  );
  assert.equal(result.error.name, "NotCapable");
  assert.match(result.error.message, new RegExp(`Requires ${access} access`));
  assert.equal(result.after, "still running");
}

Deno.test("ThreadPoolExecutor({ permissions: 'none' }) task's read rejects NotCapable and the pool goes on", async () => {
  await using dir = await tempDir({ "a.txt": "hello" });
  const read = (path: string) => Deno.readTextFile(path);
  assertNotCapable(await outcome("none", read, `${dir.path}/a.txt`), "read");
  assert.equal(
    (await outcome("inherit", read, `${dir.path}/a.txt`)).value,
    "hello",
  );
});

Deno.test("ThreadPoolExecutor({ permissions: 'none' }) task's write rejects NotCapable and the pool goes on", async () => {
  await using dir = await tempDir();
  const write = (path: string) => Deno.writeTextFile(path, "x");
  assertNotCapable(await outcome("none", write, `${dir.path}/w.txt`), "write");
  await assert.rejects(Deno.stat(`${dir.path}/w.txt`), Deno.errors.NotFound);
  assert.equal(
    (await outcome("inherit", write, `${dir.path}/w.txt`)).error,
    undefined,
  );
  assert.equal(await Deno.readTextFile(`${dir.path}/w.txt`), "x");
});

Deno.test("ThreadPoolExecutor({ permissions: 'none' }) task's fetch rejects NotCapable; a net list grant allows its host", async () => {
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response("pong"),
  );
  const { port } = server.addr;
  const url = `http://127.0.0.1:${port}/`;
  const get = async (url: string) => await (await fetch(url)).text();
  assertNotCapable(await outcome("none", get, url), "net");
  assertNotCapable(await outcome({ net: ["127.0.0.1:1"] }, get, url), "net");
  assert.equal(
    (await outcome({ net: [`127.0.0.1:${port}`] }, get, url)).value,
    "pong",
  );
});

Deno.test("ThreadPoolExecutor({ permissions: 'none' }) task's env read rejects NotCapable and the pool goes on", async () => {
  const env = () => Deno.env.get("PATH");
  assertNotCapable(await outcome("none", env), "env");
  assert.equal((await outcome("inherit", env)).value, Deno.env.get("PATH"));
});

Deno.test("ThreadPoolExecutor({ permissions: 'none' }) task's subprocess rejects NotCapable and the pool goes on", async () => {
  const run = async (deno: string) =>
    (await new Deno.Command(deno, { args: ["--version"], stdout: "null" })
      .output()).success;
  assertNotCapable(await outcome("none", run, Deno.execPath()), "run");
  assert.equal((await outcome("inherit", run, Deno.execPath())).value, true);
});

Deno.test("ThreadPoolExecutor({ permissions: { read: [dir] } }) task reads that folder and is denied another", async () => {
  await using allowed = await tempDir({ "a.txt": "in" });
  await using other = await tempDir({ "b.txt": "out" });
  const read = (path: string) => Deno.readTextFile(path);
  const permissions = { read: [allowed.path] };
  assert.equal(
    (await outcome(permissions, read, `${allowed.path}/a.txt`)).value,
    "in",
  );
  assertNotCapable(
    await outcome(permissions, read, `${other.path}/b.txt`),
    "read",
  );
});

Deno.test("ThreadPoolExecutor({ permissions: { read: 'inherit' } }) task is denied the omitted keys", async () => {
  await using dir = await tempDir({ "a.txt": "hello" });
  const read = (path: string) => Deno.readTextFile(path);
  const permissions = { read: "inherit" as const };
  assert.equal(
    (await outcome(permissions, read, `${dir.path}/a.txt`)).value,
    "hello",
  );
  assertNotCapable(
    await outcome(permissions, () => Deno.env.get("PATH")),
    "env",
  );
});

// ------------------------------------------------- the worker's own script

Deno.test("ThreadPoolExecutor({ permissions: 'none' }) worker loads its own script with no permission at all", async () => {
  const states = () =>
    Promise.all(
      (["read", "net", "import", "env"] as const).map(async (name) =>
        (await Deno.permissions.query({ name })).state
      ),
    );
  const result = await outcome("none", states);
  assert.deepEqual(result.value, ["prompt", "prompt", "prompt", "prompt"]);
});

Deno.test("ThreadPoolExecutor({ permissions: 'none' }) runs tasks when the module is imported by URL into a program with no read permission", async () => {
  await using dir = await tempDir({
    "deno.json": WITH_FEATURE,
    "main.ts": `
const { ThreadPoolExecutor } = await import(Deno.args[0]);
const pool = new ThreadPoolExecutor({ permissions: "none" });
console.log(await pool.submit((a, b) => a * b, 6, 7).result());
try {
  await pool.submit(() => Deno.readTextFile("/etc/hostname")).result();
} catch (error) {
  console.log(error instanceof Deno.errors.NotCapable);
}
await pool.shutdown();
`,
  });
  // Serves this checkout over HTTP, as a registry would.
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (request) => {
      const path = new URL(request.url).pathname.slice(1);
      if (!/^(mod\.ts|(future|executor|dashboard)(\/\w+)+\.ts)$/.test(path)) {
        return new Response("not found", { status: 404 });
      }
      return new Response(await Deno.readTextFile(new URL(path, ROOT)), {
        headers: { "content-type": "application/typescript" },
      });
    },
  );
  const host = `127.0.0.1:${server.addr.port}`;
  const out = await runDeno(
    [
      "run",
      "--no-lock",
      "--config",
      `${dir.path}/deno.json`,
      `--allow-import=${host}`,
      `${dir.path}/main.ts`,
      `http://${host}/mod.ts`,
    ],
    "child importing by URL",
    { DENO_DIR: `${dir.path}/deno_dir` },
  );
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stdout, "42\ntrue\n");
});
