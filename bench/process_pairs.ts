// A process pool's cold start against its floor, interleaved (as
// latency_pairs.ts: `deno bench` runs one contender's iterations after
// another's, so a drift of this noisy machine reads as a difference). Each
// round times, one after the other, a bare `deno` child run to its end, and
// a new ProcessPoolExecutor (inheriting permissions, then sandboxed) to its
// first result and shutdown; the medians of the rounds are compared:
//
//   deno run -A bench/process_pairs.ts
import { ProcessPoolExecutor } from "../mod.ts";

const ROUNDS = 31;

const inc = (x: number) => x + 1;
const BARE = `data:application/javascript,${
  encodeURIComponent("console.log(1)")
}`;

const bare = async () => {
  await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-config", "--quiet", BARE],
    stdout: "piped",
  }).output();
};
const coldPool = (permissions: "inherit" | "none") => async () => {
  const pool = new ProcessPoolExecutor({ maxWorkers: 1, permissions });
  await pool.submit(inc, 1).result();
  await pool.shutdown();
};

const contenders: [string, () => Promise<void>][] = [
  ["bare deno child", bare],
  ["ProcessPoolExecutor", coldPool("inherit")],
  ["ProcessPoolExecutor, permissions: none", coldPool("none")],
];
const times = contenders.map(() => [] as number[]);
for (let round = -1; round < ROUNDS; round++) {
  for (const [index, [, run]] of contenders.entries()) {
    const start = performance.now();
    await run();
    // Round -1 warms every contender up.
    if (round >= 0) times[index].push(performance.now() - start);
  }
}
const median = (list: number[]) =>
  list.toSorted((a, b) => a - b)[list.length >> 1];
const [floor, ...pools] = times.map(median);
console.log(`${contenders[0][0]}: ${floor.toFixed(1)} ms`);
pools.forEach((ms, i) => {
  console.log(
    `${contenders[i + 1][0]}: ${ms.toFixed(1)} ms (${
      (ms / floor).toFixed(2)
    }× the bare child)`,
  );
});
