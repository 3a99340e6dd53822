// Memory: RSS per queued task (1,000,000 tasks waiting behind a blocked
// worker) and per idle worker. Run: deno run -A bench/memory.ts
import { ThreadPoolExecutor } from "../mod.ts";

const QUEUED = 1_000_000;
const rss = () => Deno.memoryUsage().rss;

{
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const release = new Int32Array(new SharedArrayBuffer(4));
  const blocker = pool.submit((flag: Int32Array) => {
    Atomics.wait(flag, 0, 0);
  }, release);
  await new Promise((resolve) => setTimeout(resolve, 200));
  // @ts-ignore: gc is there with --v8-flags=--expose-gc
  globalThis.gc?.();
  const before = rss();
  const futures = [];
  for (let i = 0; i < QUEUED; i++) {
    futures.push(pool.submit((x: number) => x, i));
  }
  await new Promise((resolve) => setTimeout(resolve, 100));
  const perTask = (rss() - before) / QUEUED;
  console.log(
    `queued tasks: ${perTask.toFixed(0)} bytes each (RSS, ${QUEUED} queued)`,
  );
  Atomics.store(release, 0, 1);
  Atomics.notify(release, 0);
  await blocker.result();
  await pool.shutdown({ cancelFutures: true });
}

{
  const WORKERS = 8;
  const before = rss();
  await using pool = new ThreadPoolExecutor({
    maxWorkers: WORKERS,
    idleTimeout: 60_000,
  });
  await Promise.all(
    Array.from(
      { length: WORKERS },
      () => pool.submit(() => new Promise((r) => setTimeout(r, 100))).result(),
    ),
  );
  console.log(
    `idle worker: ${
      ((rss() - before) / WORKERS / 1024 / 1024).toFixed(1)
    } MB each (RSS, ${WORKERS} workers)`,
  );
}
