// The `permissions` option of a pool: which of Deno's permissions its
// workers get, checked once at construction.
import { describe } from "../future/_util.ts";

/**
 * A pool's permission set: `"inherit"` (the program's own), `"none"`, or an
 * object naming each permission (`read`, `write`, `net`, `env`, `run`,
 * `ffi`, `sys`, `import`) as `true`, `false`, `"inherit"` or a list; an
 * omitted key is denied.
 */
export type Permissions = "inherit" | "none" | Deno.PermissionOptionsObject;

const KEYS = [
  "read",
  "write",
  "net",
  "env",
  "run",
  "ffi",
  "sys",
  "import",
] as const;

/**
 * Checks a `permissions` option and returns what `new Worker` should get as
 * `deno.permissions`: `undefined` for `"inherit"` (so a pool that scopes
 * nothing never needs the `worker-options` feature), and every omitted key
 * spelled out as denied.
 *
 * @param value The option.
 * @param owner The class being constructed, for messages.
 * @returns The worker's permissions, or `undefined` to inherit.
 * @throws {TypeError} For an unknown key or a value of the wrong type.
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
    if (!(KEYS as readonly string[]).includes(key)) {
      throw new TypeError(
        `Cannot create ${owner} as 'permissions.${key}' is not a permission: the keys are ${
          KEYS.join(", ")
        }`,
      );
    }
  }
  const given = value as Record<string, unknown>;
  const resolved: Record<string, unknown> = {};
  for (const key of KEYS) {
    const grant = given[key] ?? false;
    const ok = typeof grant === "boolean" || grant === "inherit" ||
      (Array.isArray(grant) &&
        grant.every((item) =>
          typeof item === "string" || item instanceof URL ||
          (key === "net" && typeof item === "number")
        ));
    if (!ok) {
      throw new TypeError(
        `Cannot create ${owner} as 'permissions.${key}' must be a boolean, "inherit" or a list of strings: current value is ${
          describe(grant)
        }`,
      );
    }
    resolved[key] = Array.isArray(grant)
      ? grant.map((item) => item instanceof URL ? item.href : item)
      : grant;
  }
  return resolved as Deno.PermissionOptionsObject;
}
