// Both sides: how an engine is opened, and the bounds it is opened with.
import type { Engine, EngineOptions } from "./engine.ts";
import { Connection } from "./connection.ts";
import { RedisEngine } from "./redis_engine.ts";
import { loadScripts } from "./scripts.ts";

/** ms Redis may be unreachable before what waits on it fails. */
export const DEFAULT_CONNECT_TIMEOUT = 10_000;
/**
 * ms a command waits for its reply at most, counted from when it is issued
 * (so it includes a wait for a reconnect): shorter than the connect timeout,
 * so a command sent during an outage fails within it.
 */
export const DEFAULT_COMMAND_TIMEOUT = 5_000;

/**
 * Checks a Redis URL.
 *
 * @param action what the URL is for, as messages start: "Cannot <action> as
 * 'url' ...".
 * @throws {TypeError} when it is not a redis:// or rediss:// URL.
 */
export function validateUrl(
  url: string,
  action = "connect to Redis",
): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw new TypeError(
      `Cannot ${action} as 'url' is not a URL: current value is ${
        JSON.stringify(url)
      }`,
      { cause: error },
    );
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    throw new TypeError(
      `Cannot ${action} as 'url' must start with redis:// or rediss://: current value has ${parsed.protocol}//`,
    );
  }
  return parsed;
}

function validateMs(name: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(
      `Cannot connect to Redis as '${name}' must be a finite number > 0: current value is ${value}`,
    );
  }
}

/**
 * Opens an engine on the Redis at `url`: a command connection and a blocking
 * one, both connected before it resolves.
 *
 * @param url `redis://[user:password@]host[:port][/db]` or `rediss://…`.
 * @param options timeouts and the connections' name.
 * @returns the engine; `close()` it.
 * @throws {TypeError} when `url` is not a redis:// or rediss:// URL.
 * @throws {RangeError} when a timeout is not a finite number > 0.
 * @throws {EngineError} of kind "timeout" when Redis cannot be reached within
 * `connectTimeout`.
 */
export async function connect(
  url: string,
  options: EngineOptions = {},
): Promise<Engine> {
  const {
    connectTimeout = DEFAULT_CONNECT_TIMEOUT,
    commandTimeout = DEFAULT_COMMAND_TIMEOUT,
    name,
  } = options;
  const parsed = validateUrl(url);
  validateMs("connectTimeout", connectTimeout);
  validateMs("commandTimeout", commandTimeout);
  const scripts = await loadScripts();
  const connection = await Connection.open({
    url,
    where: parsed.host,
    connectTimeout,
    commandTimeout,
    name,
  });
  return new RedisEngine(connection, scripts);
}
