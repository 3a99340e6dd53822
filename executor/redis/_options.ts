// The options of RedisExecutor and RedisNode, checked once at construction
// in std's message form; inner code trusts the values.
import { checkCount, describe } from "../../future/_util.ts";
import { DEFAULT_CONNECT_TIMEOUT, validateUrl } from "./_engine/connect.ts";

/** The default Redis: a local server on its default port. */
export const DEFAULT_URL = "redis://127.0.0.1:6379";
/** The default queue's name (its task stream's key). */
export const DEFAULT_QUEUE = "concurrent-futures";

/** Where a RedisExecutor or RedisNode connects, checked. */
export interface Connection {
  url: string;
  queue: string;
  connectTimeout: number;
}

/**
 * The `url`, `queue` and `connectTimeout` options both sides take, with
 * their defaults, checked.
 *
 * @throws {TypeError} For a bad `url` or `queue`.
 * @throws {RangeError} For a bad `connectTimeout`.
 * @throws {Deno.errors.NotCapable} Without net permission to the `url`.
 */
export function checkConnection(
  options: { url?: unknown; queue?: unknown; connectTimeout?: unknown },
  owner: string,
): Connection {
  const {
    url = DEFAULT_URL,
    queue = DEFAULT_QUEUE,
    connectTimeout = DEFAULT_CONNECT_TIMEOUT,
  } = options;
  return {
    url: checkUrl(url, owner),
    queue: checkQueue(queue, owner),
    connectTimeout: checkMs(connectTimeout, owner, "connectTimeout"),
  };
}

/**
 * Throws unless `url` is a redis:// or rediss:// URL that the program may
 * reach: a missing net permission fails here, at once, rather than as a
 * Redis that cannot be reached within `connectTimeout`.
 *
 * @throws {TypeError} For a value that is not such a URL.
 * @throws {Deno.errors.NotCapable} Without net permission for its host.
 */
export function checkUrl(url: unknown, owner: string): string {
  if (typeof url !== "string") {
    throw new TypeError(
      `Cannot create ${owner} as 'url' must be a string: current value is ${
        describe(url)
      }`,
    );
  }
  const parsed = validateUrl(url, `create ${owner}`);
  const host = `${parsed.hostname}:${parsed.port || "6379"}`;
  const { state } = Deno.permissions.querySync({ name: "net", host });
  if (state !== "granted") {
    throw new Deno.errors.NotCapable(
      `Cannot create ${owner} as the program may not connect to Redis at ${host}: run with --allow-net=${host} (or --allow-net)`,
    );
  }
  return url;
}

/** Throws unless `queue` is a non-empty string. */
export function checkQueue(queue: unknown, owner: string): string {
  if (typeof queue !== "string" || queue === "") {
    throw new TypeError(
      `Cannot create ${owner} as 'queue' must be a non-empty string: current value is ${
        describe(queue)
      }`,
    );
  }
  return queue;
}

/** Throws unless `value` is a finite number of milliseconds > 0. */
export function checkMs(
  value: unknown,
  owner: string,
  option: string,
  action = "create",
): number {
  const what = action === "create"
    ? `create ${owner}`
    : `call ${owner}.${action}()`;
  if (typeof value !== "number") {
    throw new TypeError(
      `Cannot ${what} as '${option}' must be a number of milliseconds: current value is ${
        describe(value)
      }`,
    );
  }
  if (!(value > 0)) {
    throw new RangeError(
      `Cannot ${what} as '${option}' must be > 0: current value is ${value}`,
    );
  }
  if (!Number.isFinite(value)) {
    throw new RangeError(
      `Cannot ${what} as '${option}' must be finite: current value is ${value}`,
    );
  }
  return value;
}

/** Throws unless `value` is a number of milliseconds > 0, or Infinity. */
export function checkWait(
  value: unknown,
  owner: string,
  option: string,
  action = "create",
): number {
  return value === Infinity ? value : checkMs(value, owner, option, action);
}

/** Throws unless `value` is an integer >= 1 (or Infinity, if `infinite`). */
export function checkPositive(
  value: unknown,
  owner: string,
  option: string,
  infinite: boolean,
): number {
  checkCount(value, `create ${owner}`, option, infinite);
  return value as number;
}

/**
 * Throws unless `value` is an integer >= 0; `or` names what else the option
 * takes (`'"auto" or '`), for the message.
 */
export function checkNatural(
  value: unknown,
  owner: string,
  option: string,
  or = "",
): number {
  if (typeof value !== "number") {
    throw new TypeError(
      `Cannot create ${owner} as '${option}' must be ${or}a number: current value is ${
        describe(value)
      }`,
    );
  }
  if (!Number.isInteger(value) || value < 0) {
    throw new RangeError(
      `Cannot create ${owner} as '${option}' must be ${or}an integer >= 0: current value is ${value}`,
    );
  }
  return value;
}

/**
 * Throws unless `prefixes` is an array of absolute URLs; returns them
 * normalized (`new URL(prefix).href`), so they compare with the normalized
 * URL of a task.
 */
export function checkPrefixes(prefixes: unknown, owner: string): string[] {
  if (!Array.isArray(prefixes)) {
    throw new TypeError(
      `Cannot create ${owner} as 'allowModules' must be an array of URL prefixes: current value is ${
        describe(prefixes)
      }`,
    );
  }
  return prefixes.map((prefix, i) => {
    try {
      if (typeof prefix !== "string") throw new TypeError("not a string");
      return new URL(prefix).href;
    } catch (error) {
      throw new TypeError(
        `Cannot create ${owner} as 'allowModules[${i}]' must be an absolute URL: current value is ${
          describe(prefix)
        }`,
        { cause: error },
      );
    }
  });
}

/** Throws unless `value` is an integer number of bytes >= 0, up to `max`. */
export function checkBytes(
  value: unknown,
  owner: string,
  option: string,
  max: number,
): number {
  if (typeof value !== "number") {
    throw new TypeError(
      `Cannot create ${owner} as '${option}' must be a number of bytes: current value is ${
        describe(value)
      }`,
    );
  }
  if (value === Infinity && max === Infinity) return value;
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(
      `Cannot create ${owner} as '${option}' must be an integer ${
        max === Infinity ? ">= 0 (or Infinity)" : `from 0 to ${max}`
      }: current value is ${value}`,
    );
  }
  return value;
}
