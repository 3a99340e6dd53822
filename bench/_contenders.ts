// The pools the benchmarks compare, behind one small interface: the raw
// Worker floor, this library, and the peers users would otherwise pick.
import { ThreadPoolExecutor, type ThreadPoolExecutorOptions } from "../mod.ts";

export type Kind = "inc" | "fib";

export interface Runner {
  run(kind: Kind, arg: number): Promise<number>;
  close(): Promise<void>;
}

export interface Contender {
  name: string;
  start(maxWorkers: number): Promise<Runner>;
}

const fixture = (name: string) =>
  new URL(`./fixtures/${name}`, import.meta.url);

// Peers sometimes never finish tearing down under Deno (poolifier's
// destroy()): a bench must not hang on that.
export function bounded(
  promise: PromiseLike<unknown>,
  ms = 2000,
): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    Promise.resolve(promise).then(() => {}, () => {}),
    new Promise<void>((resolve) => timer = setTimeout(resolve, ms)),
  ]).finally(() => clearTimeout(timer));
}

/** A minimal hand-written dispatcher over raw Workers: the floor. */
export const raw: Contender = {
  name: "raw Worker",
  async start(maxWorkers) {
    const pending = new Map<number, (value: number) => void>();
    const workers = Array.from({ length: maxWorkers }, () => {
      const worker = new Worker(fixture("raw_worker.js"), { type: "module" });
      worker.onmessage = (event) => {
        const [id, value] = event.data;
        pending.get(id)!(value);
        pending.delete(id);
      };
      return worker;
    });
    let next = 0;
    const runner: Runner = {
      run(kind, arg) {
        const id = next++;
        const { promise, resolve } = Promise.withResolvers<number>();
        pending.set(id, resolve);
        workers[id % workers.length].postMessage([id, kind, arg]);
        return promise;
      },
      close() {
        for (const worker of workers) worker.terminate();
        return Promise.resolve();
      },
    };
    await Promise.all(workers.map((_, i) => runner.run("inc", i)));
    return runner;
  },
};

function fib(n: number): number {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}
const inc = (x: number) => x + 1;

/** This library's ThreadPoolExecutor, with `options`. */
export function poolContender(
  name: string,
  options: ThreadPoolExecutorOptions = {},
): Contender {
  return {
    name,
    async start(maxWorkers) {
      const executor = new ThreadPoolExecutor({ ...options, maxWorkers });
      const runner: Runner = {
        run: (kind, arg) =>
          executor.submit(kind === "fib" ? fib : inc, arg).result(),
        close: () => executor.shutdown(),
      };
      await Promise.all(
        Array.from({ length: maxWorkers }, (_, i) => runner.run("inc", i)),
      );
      return runner;
    },
  };
}

/** This library's ThreadPoolExecutor (Web Workers). */
export const pool: Contender = poolContender("ThreadPoolExecutor");

/** The same with a heap limit: node:worker_threads Workers. */
export const nodePool: Contender = poolContender(
  "ThreadPoolExecutor, memoryLimit (node:worker_threads)",
  { memoryLimit: 1024 },
);

export const piscina: Contender = {
  name: "piscina 5.3",
  async start(maxWorkers) {
    const { Piscina } = await import("npm:piscina@5.3.2");
    const p = new Piscina({
      filename: fixture("peer_task.mjs").href,
      minThreads: maxWorkers,
      maxThreads: maxWorkers,
    });
    const runner: Runner = {
      run: (kind, arg) => p.run({ kind, arg }),
      close: () => bounded(p.destroy()),
    };
    await Promise.all(
      Array.from({ length: maxWorkers }, (_, i) => runner.run("inc", i)),
    );
    return runner;
  },
};

export const tinypool: Contender = {
  name: "tinypool 1.1",
  async start(maxWorkers) {
    const { Tinypool } = await import("npm:tinypool@1.1.0");
    const p = new Tinypool({
      filename: fixture("peer_task.mjs").href,
      minThreads: maxWorkers,
      maxThreads: maxWorkers,
    });
    const runner: Runner = {
      run: (kind, arg) => p.run({ kind, arg }),
      close: () => bounded(p.destroy()),
    };
    await Promise.all(
      Array.from({ length: maxWorkers }, (_, i) => runner.run("inc", i)),
    );
    return runner;
  },
};

export const workerpool: Contender = {
  name: "workerpool 9.3",
  async start(maxWorkers) {
    const { default: wp } = await import("npm:workerpool@9.3.4");
    const p = wp.pool(fixture("workerpool_worker.mjs").pathname, {
      minWorkers: maxWorkers,
      maxWorkers,
      workerType: "thread",
    });
    const runner: Runner = {
      run: (kind, arg) => p.exec(kind, [arg]) as unknown as Promise<number>,
      close: () => bounded(p.terminate(true) as unknown as Promise<void>),
    };
    await Promise.all(
      Array.from({ length: maxWorkers }, (_, i) => runner.run("inc", i)),
    );
    return runner;
  },
};

export const poolifier: Contender = {
  name: "poolifier 5.3",
  async start(maxWorkers) {
    const { FixedThreadPool } = await import("npm:poolifier@5.3.2");
    const p = new FixedThreadPool(
      maxWorkers,
      fixture("poolifier_worker.mjs").pathname,
    );
    const runner: Runner = {
      run: (kind, arg) => p.execute({ kind, arg }) as Promise<number>,
      close: () => bounded(p.destroy()),
    };
    await Promise.all(
      Array.from({ length: maxWorkers }, (_, i) => runner.run("inc", i)),
    );
    return runner;
  },
};

export const peers: Contender[] = [piscina, tinypool, workerpool, poolifier];

/**
 * Starts a contender, or says why it cannot run under Deno and throws, so
 * the bench is reported failed rather than timed doing nothing.
 */
export async function tryStart(
  contender: Contender,
  maxWorkers: number,
): Promise<Runner> {
  try {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const started = await Promise.race([
      contender.start(maxWorkers),
      new Promise<never>((_, reject) =>
        timer = setTimeout(() => reject(new Error("start timed out")), 10_000)
      ),
    ]).finally(() => clearTimeout(timer));
    return started;
  } catch (error) {
    throw new Error(`${contender.name} cannot run here: ${error}`, {
      cause: error,
    });
  }
}
