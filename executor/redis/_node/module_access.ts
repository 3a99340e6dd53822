// A node runs module tasks from its `allowModules` prefixes: its workers
// must be allowed to import from there. The node program widens its pool's
// sandbox by exactly those hosts (or paths); a RedisNode given a pool whose
// permissions do not allow them says so at construction, not at each task.
import type { Permissions } from "../../_pool/permissions.ts";

/** The permission a worker needs to import a module under a prefix. */
export interface ModuleGrant {
  key: "import" | "read";
  /** A host (`example.com`, `127.0.0.1:8000`) or a path. */
  item: string;
}

/**
 * What importing under `prefix` needs: import of its host for http(s), read
 * of its path for file:; nothing this can name for other schemes.
 */
export function moduleGrant(prefix: string): ModuleGrant | undefined {
  const url = new URL(prefix);
  if (url.protocol === "http:" || url.protocol === "https:") {
    return { key: "import", item: url.host };
  }
  if (url.protocol === "file:") {
    return { key: "read", item: decodeURIComponent(url.pathname) };
  }
  return undefined;
}

function grants(permissions: Permissions, grant: ModuleGrant): boolean {
  if (permissions === "inherit") return true;
  if (permissions === "none") return false;
  const value = permissions[grant.key];
  if (value === true || value === "inherit") return true;
  if (!Array.isArray(value)) return false;
  return value.some((item) => {
    const text = item instanceof URL ? decodeURIComponent(item.pathname) : item;
    return grant.key === "import"
      ? text === grant.item
      : grant.item === text || grant.item.startsWith(text.replace(/\/?$/, "/"));
  });
}

/**
 * Throws unless `permissions` (a pool's, resolved; `undefined`: the
 * program's own) let its workers import under every prefix.
 *
 * @throws {TypeError} Naming the prefix and the grant it needs.
 */
export function checkModuleAccess(
  permissions: Deno.PermissionOptions | undefined,
  prefixes: readonly string[],
  owner: string,
): void {
  if (permissions === undefined) return;
  for (const prefix of prefixes) {
    const grant = moduleGrant(prefix);
    if (grant === undefined || grants(permissions, grant)) continue;
    throw new TypeError(
      `Cannot create ${owner} as 'allowModules' admits ${prefix} but the executor's workers may not import from there: add ${grant.key}: [${
        JSON.stringify(grant.item)
      }] to its permissions (the node program adds it by itself)`,
    );
  }
}

/**
 * `permissions` widened so that workers may import under every prefix:
 * `"inherit"` stays as it is; `"none"` becomes an object with exactly those
 * grants.
 */
export function withModuleAccess(
  permissions: Permissions,
  prefixes: readonly string[],
): Permissions {
  if (permissions === "inherit") return permissions;
  const widened: Deno.PermissionOptionsObject = permissions === "none"
    ? {}
    : { ...permissions };
  for (const prefix of prefixes) {
    const grant = moduleGrant(prefix);
    if (grant === undefined || grants(widened, grant)) continue;
    const list = widened[grant.key];
    widened[grant.key] = [
      ...(Array.isArray(list) ? list as string[] : []),
      grant.item,
    ];
  }
  return Object.keys(widened).length === 0 ? "none" : widened;
}
