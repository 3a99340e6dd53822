// The `permissions` option of a pool: which of Deno's permissions its
// workers get, checked once at construction (a typo, a grant the program
// does not have, or a missing unstable feature never waits for a first task).
import { describe } from "../../future/_util.ts";

/**
 * A pool's permission set: `"inherit"` (the program's own), `"none"`, or an
 * object naming each permission (`read`, `write`, `net`, `env`, `run`,
 * `ffi`, `sys`, `import`) as `true`, `false`, `"inherit"` or a list; an
 * omitted key is denied.
 */
export type Permissions = "inherit" | "none" | Deno.PermissionOptionsObject;

type Key = keyof Deno.PermissionOptionsObject;

// What a list item names, as the field of Deno.permissions.query's descriptor.
const ITEM: Record<Key, string> = {
  read: "path",
  write: "path",
  net: "host",
  env: "variable",
  run: "command",
  ffi: "path",
  sys: "kind",
  import: "host",
};

const KEYS = Object.keys(ITEM) as Key[];

// Deno's PermissionOptionsObject takes URLs only for these (it turns a file:
// URL into its path); the others take strings.
const TAKES_URLS: ReadonlySet<Key> = new Set(["read", "write", "run", "ffi"]);

/**
 * Checks a `permissions` option and returns what `new Worker` should get as
 * `deno.permissions`: `undefined` to inherit (so a pool that scopes nothing
 * never needs the `worker-options` feature), `"none"`, or an object with
 * every key spelled out (an omitted key denied).
 *
 * @param value The option.
 * @param owner The class being constructed, for messages.
 * @returns The worker's permissions, or `undefined` to inherit.
 * @throws {TypeError} For an unknown key or a value of the wrong type.
 * @throws {Deno.errors.NotCapable} For a grant the program does not have.
 */
export function resolvePermissions(
  value: unknown,
  owner: string,
): Deno.PermissionOptions | undefined {
  if (value === undefined || value === "inherit") return undefined;
  if (value === "none") return "none";
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new TypeError(
      `Cannot create ${owner} as 'permissions' must be "inherit", "none" or an object: current value is ${
        describe(value)
      }`,
    );
  }
  for (const key of Object.keys(value)) {
    if (!Object.hasOwn(ITEM, key)) {
      throw new TypeError(
        `Cannot create ${owner} as 'permissions.${key}' is not a permission: the keys are ${
          KEYS.join(", ")
        }`,
      );
    }
  }
  const given = value as Record<string, unknown>;
  const resolved: Record<string, boolean | "inherit" | (string | URL)[]> = {};
  for (const key of KEYS) {
    // Only undefined is omitted: null is a mistake, not a denial.
    const grant = given[key] === undefined ? false : given[key];
    resolved[key] = checkGrant(key, grant, owner);
  }
  for (const key of KEYS) checkWithinParent(key, resolved[key], owner);
  // Every key "inherit" is the program's own set: no feature needed.
  if (KEYS.every((key) => resolved[key] === "inherit")) return undefined;
  return resolved as Deno.PermissionOptionsObject;
}

function checkGrant(
  key: Key,
  grant: unknown,
  owner: string,
): boolean | "inherit" | (string | URL)[] {
  if (typeof grant === "boolean" || grant === "inherit") return grant;
  const urls = TAKES_URLS.has(key);
  if (
    Array.isArray(grant) &&
    grant.every((item) =>
      typeof item === "string" || (urls && item instanceof URL)
    )
  ) {
    return [...grant]; // a copy: the caller's array may change later
  }
  throw new TypeError(
    `Cannot create ${owner} as 'permissions.${key}' must be true, false, "inherit" or a list of ${
      urls ? "strings or URLs" : "strings"
    }: current value is ${describe(grant)}`,
  );
}

// Deno refuses a worker more than its parent has only at `new Worker`, and
// only with "Can't escalate parent thread permissions": say which one here.
function checkWithinParent(
  key: Key,
  grant: boolean | "inherit" | (string | URL)[],
  owner: string,
): void {
  if (grant === false || grant === "inherit") return;
  for (const item of grant === true ? [undefined] : grant) {
    const descriptor = item === undefined
      ? { name: key }
      : { name: key, [ITEM[key]]: item };
    let state: Deno.PermissionState;
    try {
      state =
        Deno.permissions.querySync(descriptor as Deno.PermissionDescriptor)
          .state;
    } catch (error) {
      throw new TypeError(
        `Cannot create ${owner} as 'permissions.${key}' lists ${
          describe(item)
        }, which Deno does not accept: ${(error as Error).message}`,
        { cause: error },
      );
    }
    if (state !== "granted") {
      const what = item === undefined
        ? `all ${key} access`
        : `${key} access to ${JSON.stringify(String(item))}`;
      const flag = `--allow-${key}${item === undefined ? "" : `=${item}`}`;
      throw new Deno.errors.NotCapable(
        `Cannot create ${owner} as 'permissions.${key}' is wider than the program's own permissions: it asks for ${what}, which the program does not have (a worker never gets more than its parent: run with ${flag}, or ask for less)`,
      );
    }
  }
}

let probeUrl: string | undefined;
// Sets Deno has accepted: the feature is process-wide, so once is enough.
const accepted = new Set<string>();

/**
 * Has Deno judge a scoped set now, with a worker started and terminated at
 * once. Without the `worker-options` feature Deno ends the whole process
 * here (exit code 70, naming `--unstable-worker-options`), and offers no
 * way to ask first; so the failure comes at construction, never at a first
 * task after other work was done. It also catches what querySync cannot
 * see: a listed folder holding a path the program was denied, a malformed
 * host, an unknown `sys` kind.
 *
 * @param permissions A set `resolvePermissions` returned.
 * @param owner The class being constructed, for messages.
 * @throws {Deno.errors.NotCapable} When Deno refuses the set as wider than
 * the program's.
 * @throws {TypeError} When Deno refuses a malformed item.
 */
export function probeWorkerPermissions(
  permissions: Deno.PermissionOptions,
  owner: string,
): void {
  const key = JSON.stringify(permissions); // a URL becomes its href
  if (accepted.has(key)) return;
  const error = refusal(permissions, owner);
  if (error === undefined) {
    accepted.add(key);
    return;
  }
  // Deno's message names no permission: find the one it refuses alone.
  const culprit = typeof permissions === "string" ? undefined : KEYS.find(
    (name) =>
      permissions[name] !== false && permissions[name] !== "inherit" &&
      refusal(
          Object.fromEntries(
            KEYS.map((other) => [other, other === name && permissions[name]]),
          ),
          owner,
        ) !== undefined,
  );
  const Class = error instanceof Deno.errors.NotCapable
    ? Deno.errors.NotCapable
    : TypeError;
  throw new Class(
    `Cannot create ${owner} as Deno refuses ${
      culprit === undefined ? "this permission set" : `'permissions.${culprit}'`
    } for a worker: ${(error as Error).message}`,
    { cause: error },
  );
}

// What `new Worker` throws for `permissions`, or undefined if it accepts them.
function refusal(
  permissions: Deno.PermissionOptions,
  owner: string,
): unknown {
  probeUrl ??= URL.createObjectURL(
    new Blob([""], { type: "text/javascript" }),
  );
  try {
    new Worker(probeUrl, {
      type: "module",
      name: `${owner} permissions check`,
      deno: { permissions },
    }).terminate();
  } catch (error) {
    return error;
  }
}
