// A private Redis, real node processes and a RedisExecutor, for one test;
// disposing it shuts the executor down, stops the nodes, then the server.
import { createClient, RESP_TYPES } from "redis";
import { Buffer } from "node:buffer";
import {
  RedisExecutor,
  type RedisExecutorOptions,
} from "../../../executor/redis/mod.ts";
import { deadline } from "../../_deadline.ts";
import { type RedisServer, startRedis } from "./_redis_server.ts";
import { type NodeProcess, type NodeSetup, startNode } from "./_nodes.ts";
import type { Future } from "../../../mod.ts";

/** Every wait in the Redis executor tests gives up after this long. */
export const WAIT_MS = 30_000;

export interface Cluster extends AsyncDisposable {
  redis: RedisServer;
  queue: string;
  executor: RedisExecutor;
  nodes: NodeProcess[];
  /** Starts one more node on the same queue. */
  addNode(setup?: NodeSetup): Promise<NodeProcess>;
}

/** Starts a server, `nodes` node processes and an executor on one queue. */
export async function cluster(
  nodes: NodeSetup[] = [{}],
  options: RedisExecutorOptions = {},
): Promise<Cluster> {
  const redis = await startRedis();
  const queue = `q-${crypto.randomUUID().slice(0, 8)}`;
  const started: NodeProcess[] = [];
  let executor: RedisExecutor | undefined;
  const close = async () => {
    await executor?.shutdown();
    await Promise.all(started.map((node) => node.stop()));
    await redis.stop();
  };
  try {
    for (const setup of nodes) {
      started.push(await startNode(redis.url, queue, setup));
    }
    executor = new RedisExecutor({ url: redis.url, queue, ...options });
  } catch (error) {
    await close();
    throw error;
  }
  return {
    redis,
    queue,
    executor,
    nodes: started,
    async addNode(setup = {}) {
      const node = await startNode(redis.url, queue, setup);
      started.push(node);
      return node;
    },
    [Symbol.asyncDispose]: close,
  };
}

/** A raw connection, for looking at (and breaking) the server. */
export interface RawRedis extends AsyncDisposable {
  /** Sends a command; bytes in the reply come back as text. */
  command(args: string[]): Promise<unknown>;
}

/** Opens a raw node-redis connection to `url`. */
export async function rawClient(url: string): Promise<RawRedis> {
  const client = createClient({
    url,
    RESP: 3,
    commandOptions: {
      timeout: 5_000,
      typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer },
    },
  });
  client.on("error", () => {});
  await client.connect();
  const text = (value: unknown): unknown =>
    Buffer.isBuffer(value)
      ? value.toString("utf8")
      : Array.isArray(value)
      ? value.map(text)
      : value;
  return {
    async command(args) {
      return text(await client.sendCommand(args));
    },
    [Symbol.asyncDispose]() {
      client.destroy();
      return Promise.resolve();
    },
  };
}

/**
 * A temp dir that tasks write marker files into, and a way to wait for
 * them: `runs()` lists the files, `waitFor(n)` resolves once there are `n`
 * (watching the dir, never sleeping).
 */
export interface Markers extends AsyncDisposable {
  dir: string;
  runs(): string[];
  waitFor(count: number, what: string): Promise<string[]>;
}

export async function markers(): Promise<Markers> {
  const dir = await Deno.makeTempDir({ prefix: "redis-executor-runs-" });
  const runs = () =>
    [...Deno.readDirSync(dir)].map((entry) => entry.name).toSorted();
  return {
    dir,
    runs,
    async waitFor(count, what) {
      const watcher = Deno.watchFs(dir);
      try {
        const seen = (async () => {
          if (runs().length >= count) return runs();
          for await (const _ of watcher) {
            if (runs().length >= count) return runs();
          }
          return runs();
        })();
        return await deadline(seen, WAIT_MS, what);
      } finally {
        watcher.close();
      }
    },
    async [Symbol.asyncDispose]() {
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/**
 * Resolves with `future`'s first progress value: for a task that calls
 * `reportProgress` as it starts, the event that it runs on a node (a
 * progress reply sets the future running before its callbacks run). Gives
 * up after `WAIT_MS`, naming `what`.
 */
export function firstProgress(
  future: Future<unknown>,
  what: string,
): Promise<unknown> {
  return deadline(
    new Promise((resolve) => future.addProgressCallback(resolve)),
    WAIT_MS,
    what,
  );
}

/**
 * Resolves once `check` holds, checking every 10 ms: for states with no
 * event to wait on (a key emptied, a prefetched task counted as started
 * before it runs, so before it can report progress). A task that reports
 * progress as it starts is waited on with `firstProgress` instead. Gives
 * up after `WAIT_MS`, naming `what`.
 */
export async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
): Promise<void> {
  const giveUp = performance.now() + WAIT_MS;
  while (!(await check())) {
    if (performance.now() > giveUp) {
      throw new Error(`${what} did not happen within ${WAIT_MS} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
