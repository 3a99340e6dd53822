// Memory: what a queued task costs (tasks waiting behind a blocked worker),
// and an idle worker. Each case runs in a child process of its own, so one
// case's garbage and grown heap do not count in the next:
//
//   deno run -A --v8-flags=--expose-gc bench/memory.ts [case] [rounds]
//
// Cases: "futures" (1,000,000 futures kept, as before), "result" (300,000
// `pool.submit(f, i).result()` promises kept in an array: what a user who
// awaits every task pays), "result600k" (the same, 600,000), "all" (300,000
// awaited with `Promise.all(futures.map((f) => f.result()))`), "worker" (8
// idle workers). Without a case, each runs `rounds` times (default 5) in
// turns, and the medians are printed. Bytes are RSS and V8 heap (after a
// GC) grown per task. A run's RSS also holds what V8 grows once, whatever
// the count (its young generation, to its maximum, tens of MB): the
// difference between the 600,000 and the 300,000 runs, per task, leaves it
// out.
import { ThreadPoolExecutor } from "../mod.ts";

type Case = "futures" | "result" | "result600k" | "all" | "worker";
const CASES: Case[] = ["futures", "result", "result600k", "all", "worker"];
const COUNT: Record<Case, number> = {
  futures: 1_000_000,
  result: 300_000,
  result600k: 600_000,
  all: 300_000,
  worker: 8,
};

// @ts-ignore: gc is there with --v8-flags=--expose-gc
const gc = () => globalThis.gc?.();
const sample = () => {
  gc();
  const { rss, heapUsed } = Deno.memoryUsage();
  return { rss, heap: heapUsed };
};

async function queued(kind: Case): Promise<[number, number]> {
  const count = COUNT[kind];
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const release = new Int32Array(new SharedArrayBuffer(4));
  const blocker = pool.submit((flag: Int32Array) => {
    Atomics.wait(flag, 0, 0);
  }, release);
  await new Promise((resolve) => setTimeout(resolve, 200));
  const identity = (x: number) => x;
  const before = sample();
  let kept: unknown;
  if (kind === "futures") {
    const futures = [];
    for (let i = 0; i < count; i++) {
      futures.push(pool.submit((x: number) => x, i));
    }
    kept = futures;
  } else if (kind === "result" || kind === "result600k") {
    const promises = [];
    for (let i = 0; i < count; i++) {
      promises.push(pool.submit(identity, i).result());
    }
    kept = promises;
  } else {
    const futures = [];
    for (let i = 0; i < count; i++) futures.push(pool.submit(identity, i));
    kept = Promise.all(futures.map((f) => f.result()));
  }
  await new Promise((resolve) => setTimeout(resolve, 100));
  const after = sample();
  Atomics.store(release, 0, 1);
  Atomics.notify(release, 0);
  await blocker.result();
  if (kind === "futures") await pool.shutdown({ cancelFutures: true });
  else if (kind !== "all") await Promise.all(kept as Promise<number>[]);
  else await kept;
  return [(after.rss - before.rss) / count, (after.heap - before.heap) / count];
}

async function idleWorkers(): Promise<[number, number]> {
  const count = COUNT.worker;
  const before = sample();
  await using pool = new ThreadPoolExecutor({
    maxWorkers: count,
    idleTimeout: 60_000,
  });
  await Promise.all(
    Array.from(
      { length: count },
      () => pool.submit(() => new Promise((r) => setTimeout(r, 100))).result(),
    ),
  );
  const after = sample();
  return [(after.rss - before.rss) / count, (after.heap - before.heap) / count];
}

const run = (kind: Case) => kind === "worker" ? idleWorkers() : queued(kind);

const LABEL: Record<Case, string> = {
  futures: "queued task, future kept",
  result: "queued task, submit(f, i).result() kept",
  result600k: "queued task, submit(f, i).result() kept",
  all: "queued task, Promise.all of result()",
  worker: "idle worker",
};
const show = (kind: Case, [rss, heap]: [number, number]) =>
  kind === "worker"
    ? `${(rss / 1024 / 1024).toFixed(1)} MB RSS each`
    : `${rss.toFixed(0)} B RSS, ${heap.toFixed(0)} B heap each`;

const [chosen, roundsArg] = Deno.args;
if (CASES.includes(chosen as Case)) {
  console.log(JSON.stringify(await run(chosen as Case)));
} else {
  const rounds = Number(roundsArg ?? chosen ?? 5) || 5;
  const results = new Map<Case, [number, number][]>(
    CASES.map((kind) => [kind, []]),
  );
  for (let round = 0; round < rounds; round++) {
    for (const kind of CASES) {
      const { stdout } = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "--v8-flags=--expose-gc",
          new URL(import.meta.url).pathname,
          kind,
        ],
        stderr: "inherit",
      }).output();
      results.get(kind)!.push(JSON.parse(new TextDecoder().decode(stdout)));
    }
  }
  const median = (list: number[]) =>
    list.toSorted((a, b) => a - b)[list.length >> 1];
  for (const kind of CASES) {
    const list = results.get(kind)!;
    const medians: [number, number] = [
      median(list.map(([rss]) => rss)),
      median(list.map(([, heap]) => heap)),
    ];
    console.log(
      `${LABEL[kind]} (${COUNT[kind]}): ${
        show(kind, medians)
      } (median of ${rounds})`,
    );
  }
  // Per round: RSS and heap of 600,000 less those of 300,000, per task.
  const slopes = results.get("result")!.map(([rss, heap], i) => {
    const [rss2, heap2] = results.get("result600k")![i];
    const n = COUNT.result, n2 = COUNT.result600k;
    return [
      (rss2 * n2 - rss * n) / (n2 - n),
      (heap2 * n2 - heap * n) / (n2 - n),
    ];
  });
  console.log(
    `queued task, submit(f, i).result() kept, 600,000 less 300,000: ${
      show("result", [
        median(slopes.map(([rss]) => rss)),
        median(slopes.map(([, heap]) => heap)),
      ])
    } (median of ${rounds})`,
  );
}
