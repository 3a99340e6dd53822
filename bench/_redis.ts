// The Redis benchmarks' shared parts: contenders (the raw node-redis loop,
// BullMQ), their consumer processes, and a bench() that starts a private
// redis-server per iteration, warms up, times only the work and prints
// medians at exit. Used by bench/redis_floor_bench.ts and
// bench/redis_bench.ts. GROUP=<a regular expression> runs only the groups
// it matches (deno bench --filter matches the contenders' names).
import { createClient, RESP_TYPES } from "redis";
import { Buffer } from "node:buffer";
import { deserialize, serialize } from "node:v8";
import { deadline } from "../tests/_deadline.ts";
import {
  type RedisServer,
  startRedis,
} from "../tests/executor/redis/_redis_server.ts";

export const TRIPS = 1000;
export const TASKS = 5000;
export const WARMUP_TRIPS = 200;
// Entries a raw consumer takes per XREADGROUP: larger batches mean fewer
// round trips, but one consumer may take a share the other could have run.
const BATCH = 200;
const BULLMQ_CONCURRENCY = 16;
/** A step that takes longer than this is an error, not a figure. */
export const STUCK_MS = 60_000;

export const config = new URL("./deno.json", import.meta.url).pathname;
const fixture = (name: string) =>
  new URL(`./fixtures/${name}`, import.meta.url).pathname;

/** One contender's submitting side, with its consumers running. */
export interface Runner {
  /** One task there and back; rejects on a wrong answer. */
  trip(n: number): Promise<void>;
  /** `TASKS` tasks at once; resolves when every one is answered. */
  burst(): Promise<void>;
  /**
   * `tasks` tasks at once that share one large argument, `value`: task `i`
   * answers `value[i] + i`. Resolves when every one is answered.
   */
  share(value: Uint8Array, tasks: number): Promise<void>;
  close(): Promise<void>;
}

/** What task `i` of a `share` burst answers. */
export const shared = (value: Uint8Array, i: number): number => value[i] + i;

function checkShared(name: string, value: Uint8Array, answers: unknown[]) {
  answers.forEach((answer, i) => {
    if (answer !== shared(value, i)) {
      throw new Error(`${name}: shared task ${i} got ${answer}`);
    }
  });
}

export interface Contender {
  name: string;
  start(redis: RedisServer, consumers: number): Promise<Runner>;
}

export interface Child {
  close(): Promise<void>;
}

// Starts `deno run FIXTURE ...args` and waits for its "ready" line.
export async function spawn(
  name: string,
  args: string[],
): Promise<Child> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--config", config, fixture(name), ...args],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream())
    .getReader();
  let seen = "";
  while (!seen.includes("ready\n")) {
    const { value, done } = await deadline(
      reader.read(),
      STUCK_MS,
      `${name} starting`,
    );
    if (done) throw new Error(`${name} exited before it was ready`);
    seen += value;
  }
  const drained = (async () => {
    while (!(await reader.read()).done);
  })();
  return {
    async close() {
      // The end of its stdin tells it to exit.
      await child.stdin.close();
      await deadline(child.status, STUCK_MS, `${name} exiting`);
      await drained;
    },
  };
}

export const spawnMany = (count: number, make: (i: number) => Promise<Child>) =>
  Promise.all(Array.from({ length: count }, (_, i) => make(i)));

type Entry = [Buffer, Buffer[]];

/** The floor: node-redis commands, nothing else. */
export const raw: Contender = rawLoop("raw node-redis loop", "");

/**
 * The floor with the hop a node makes: each task computed in a Worker of
 * the consumer (a postMessage there and back), as a node runs it in a
 * pool's worker.
 */
export const rawWorkerHop: Contender = rawLoop(
  "raw node-redis loop, each task in a Worker",
  "worker",
);

function rawLoop(name: string, hop: string): Contender {
  return { name, start: (redis, consumers) => startRaw(redis, consumers, hop) };
}

async function startRaw(
  redis: RedisServer,
  consumers: number,
  hop: string,
): Promise<Runner> {
  const children = await spawnMany(
    consumers,
    (i) =>
      spawn("redis_raw_consumer.ts", [
        redis.url,
        "tasks",
        "nodes",
        `node-${i}`,
        "replies",
        String(BATCH),
        hop,
      ]),
  );
  const options = {
    url: redis.url,
    RESP: 3 as const,
    commandOptions: {
      typeMapping: {
        [RESP_TYPES.BLOB_STRING]: Buffer,
        [RESP_TYPES.MAP]: Array,
      },
    },
  };
  const command = createClient(options);
  // A connection blocked in XREAD carries nothing else.
  const blocking = createClient(options);
  await Promise.all([command.connect(), blocking.connect()]);
  let last = "0";

  async function replies(): Promise<Entry[]> {
    const reply = await blocking.sendCommand([
      "XREAD",
      "COUNT",
      String(TASKS),
      "BLOCK",
      "5000",
      "STREAMS",
      "replies",
      last,
    ], { timeout: 10_000 }) as [Buffer, Entry[]] | null;
    if (reply === null) throw new Error("raw: no reply within 5 s");
    const entries = reply[1];
    last = entries[entries.length - 1][0].toString();
    return entries;
  }

  const add = (n: number) =>
    command.sendCommand(["XADD", "tasks", "*", "t", serialize({ n })]);
  let values = 0;

  return {
    async trip(n) {
      const [, entries] = await Promise.all([add(n), replies()]);
      const value = deserialize(entries[0][1][3]);
      if (entries.length !== 1 || value !== n + 1) {
        throw new Error(`raw: task ${n} got ${value}`);
      }
    },
    async burst() {
      // Issued in one macrotask: node-redis sends them in one write.
      const adding = Promise.all(
        Array.from({ length: TASKS }, (_, n) => add(n)),
      );
      const answered = new Set<string>();
      while (answered.size < TASKS) {
        for (const [, fields] of await replies()) {
          answered.add(fields[1].toString());
        }
      }
      const ids = new Set((await adding).map(String));
      if (![...answered].every((id) => ids.has(id))) {
        throw new Error("raw: a reply for a task not sent");
      }
    },
    async share(value, tasks) {
      // Stored once by hand; each entry names the key (the consumer
      // reads it once and keeps it).
      const key = `value:${values++}`;
      const adding = Promise.all([
        command.sendCommand(["SET", key, Buffer.from(value.buffer)]),
        ...Array.from(
          { length: tasks },
          (_, i) =>
            command.sendCommand([
              "XADD",
              "tasks",
              "*",
              "t",
              serialize({ key, i }),
            ]),
        ),
      ]);
      const answers = new Map<string, unknown>();
      while (answers.size < tasks) {
        for (const [, fields] of await replies()) {
          answers.set(fields[1].toString(), deserialize(fields[3]));
        }
      }
      const ids = (await adding).slice(1).map(String);
      checkShared("raw", value, ids.map((id) => answers.get(id)));
      await command.sendCommand(["DEL", key]);
    },
    async close() {
      command.destroy();
      blocking.destroy();
      await Promise.all(children.map((child) => child.close()));
    },
  };
}

/** The peer: BullMQ's Queue, QueueEvents and Worker, over ioredis. */
export const bullmq: Contender = {
  name: "BullMQ (ioredis, concurrency 16)",
  async start(redis, consumers) {
    const { Queue, QueueEvents } = await import("npm:bullmq@6.7.0");
    const { Redis } = await import("npm:ioredis@6.0.0");
    const children = await spawnMany(
      consumers,
      () =>
        spawn("bullmq_worker.ts", [
          redis.url,
          "tasks",
          String(BULLMQ_CONCURRENCY),
        ]),
    );
    const connections = [0, 1].map(() =>
      new Redis(redis.url, { maxRetriesPerRequest: null })
    );
    const queue = new Queue("tasks", {
      connection: connections[0],
      // Room for every event of a burst (BullMQ trims its event stream,
      // 10,000 by default), so none is lost before QueueEvents reads it.
      streams: { events: { maxLen: 100_000 } },
      defaultJobOptions: { removeOnComplete: true, removeOnFail: true },
    });
    // From the stream's start: no event can slip by before the first read.
    const events = new QueueEvents("tasks", {
      connection: connections[1],
      lastEventId: "0-0",
    });
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    // Each job's return value, from its "completed" event. QueueEvents reads
    // the event stream from its start, so an event that comes before anyone
    // waits for it is kept until someone does.
    const early = new Map<string, unknown>();
    const waiting = new Map<string, (value: unknown) => void>();
    events.on("completed", ({ jobId, returnvalue }) => {
      const resolve = waiting.get(jobId);
      if (resolve === undefined) return void early.set(jobId, returnvalue);
      waiting.delete(jobId);
      resolve(returnvalue);
    });
    const result = (id: string): Promise<unknown> => {
      if (early.has(id)) {
        const value = early.get(id);
        early.delete(id);
        return Promise.resolve(value);
      }
      return new Promise((resolve) => waiting.set(id, resolve));
    };

    return {
      async trip(n) {
        const job = await queue.add("inc", { n });
        const value = await result(job.id!);
        if (value !== n + 1) throw new Error(`bullmq: task ${n} got ${value}`);
      },
      async burst() {
        const jobs = await queue.addBulk(
          Array.from({ length: TASKS }, (_, n) => ({
            name: "inc",
            data: { n },
          })),
        );
        const values = await Promise.all(jobs.map((job) => result(job.id!)));
        if (values.some((value, n) => value !== n + 1)) {
          throw new Error("bullmq: a wrong answer in the burst");
        }
      },
      async share(value, tasks) {
        // Job data is JSON: the bytes go as base64, in every job.
        const v = Buffer.from(value.buffer).toString("base64");
        const jobs = await queue.addBulk(
          Array.from({ length: tasks }, (_, i) => ({
            name: "shared",
            data: { v, i },
          })),
        );
        const answers = await Promise.all(jobs.map((job) => result(job.id!)));
        checkShared("bullmq", value, answers);
      },
      async close() {
        await Promise.all(children.map((child) => child.close()));
        await Promise.all([events.close(), queue.close()]);
        for (const connection of connections) connection.disconnect();
      },
    };
  },
};

// deno bench prints averages and percentiles but no median: each bench
// records its timed spans and the medians are printed at exit, in the units
// the floor is quoted in.
const spans = new Map<
  string,
  { unit: (ms: number) => string; ms: number[]; written: number[] }
>();

globalThis.addEventListener("unload", () => {
  for (const [name, { unit, ms: all, written }] of spans) {
    // The first span is Deno.bench's warmup iteration.
    const ms = all.slice(1);
    if (ms.length === 0) continue;
    const bytes = written.length > 1
      ? `, ${
        (median(written.slice(1)) / 1e6).toLocaleString("en", {
          maximumFractionDigits: 1,
        })
      } MB written to Redis`
      : "";
    console.log(
      `median ${name}: ${unit(median(ms))}${bytes} (${ms.length} runs)`,
    );
  }
});

function median(values: number[]): number {
  const sorted = values.toSorted((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

// The bytes clients have written to Redis so far (its INFO stats).
async function netInput(url: string): Promise<number> {
  const client = createClient({ url });
  await client.connect();
  try {
    const info = String(await client.sendCommand(["INFO", "stats"]));
    return Number(/total_net_input_bytes:(\d+)/.exec(info)![1]);
  } finally {
    client.destroy();
  }
}

/**
 * One contender in `group`, an iteration a redis-server of its own. With
 * `written`, the bytes written to Redis during the work are printed too.
 */
export function bench(
  group: string,
  contender: Contender,
  consumers: number,
  work: (runner: Runner) => Promise<void>,
  unit: (ms: number) => string,
  baseline = false,
  { written = false, runs = 10, stuck = STUCK_MS }: {
    /** Print the bytes written to Redis during the work, too. */
    written?: boolean;
    /** Timed runs, after one warmup run. */
    runs?: number;
    /** How long the work may take before it is an error. */
    stuck?: number;
  } = {},
): void {
  const record = { unit, ms: [] as number[], written: [] as number[] };
  spans.set(`${group}, ${contender.name}`, record);
  Deno.bench({
    name: contender.name,
    group,
    baseline,
    // GROUP=large runs only the groups whose name has "large".
    ignore: !new RegExp(Deno.env.get("GROUP") ?? "").test(group),
    n: runs,
    warmup: 1,
    async fn(b) {
      await using redis = await startRedis();
      const runner = await deadline(
        contender.start(redis, consumers),
        STUCK_MS,
        `${contender.name} starting`,
      );
      try {
        for (let i = 0; i < WARMUP_TRIPS; i++) await runner.trip(i);
        const before = written ? await netInput(redis.url) : 0;
        b.start();
        const started = performance.now();
        await deadline(work(runner), stuck, `${contender.name} ${group}`);
        record.ms.push(performance.now() - started);
        b.end();
        if (written) record.written.push(await netInput(redis.url) - before);
      } finally {
        await runner.close();
      }
    },
  });
}

export const LATENCY = `latency (${TRIPS} sequential round trips, 1 consumer)`;
/** The throughput group's name for `consumers` consumer processes. */
export const throughput = (consumers: number): string =>
  `throughput (${TASKS} tasks at once, ${consumers} consumer${
    consumers === 1 ? "" : "s"
  })`;
export const THROUGHPUT = throughput(2);

export async function trips(runner: Runner): Promise<void> {
  for (let i = 0; i < TRIPS; i++) await runner.trip(i);
}
export const burst = (runner: Runner) => runner.burst();

export const perTrip = (ms: number) =>
  `${Math.round((ms * 1000) / TRIPS).toLocaleString("en")} µs per trip`;
export const perSecond = (ms: number) =>
  `${Math.round(TASKS / (ms / 1000)).toLocaleString("en")} tasks/s`;
