// CPU work on processes: count primes in ranges on `deno` child processes,
// each with a 128 MB heap limit, and print the speedup over one thread. A
// process pool is the one whose timeout kills a runaway task and whose
// memoryLimit contains one that runs out of memory.
import { ProcessPoolExecutor, TimeoutError } from "../mod.ts";

function countPrimes(from: number, to: number): number {
  let count = 0;
  for (let n = Math.max(from, 2); n < to; n++) {
    let prime = true;
    for (let d = 2; d * d <= n; d++) {
      if (n % d === 0) {
        prime = false;
        break;
      }
    }
    if (prime) count++;
  }
  return count;
}

const LIMIT = 2_000_000;
const STEP = 100_000;
const starts = Array.from({ length: LIMIT / STEP }, (_, i) => i * STEP);
const ends = starts.map((start) => start + STEP);

let started = performance.now();
let total = 0;
for (let i = 0; i < starts.length; i++) {
  total += countPrimes(starts[i], ends[i]);
}
const oneThread = performance.now() - started;
console.log(`one thread: ${total} primes in ${oneThread.toFixed(0)} ms`);

const cores = navigator.hardwareConcurrency;
await using pool = new ProcessPoolExecutor({
  maxWorkers: cores,
  memoryLimit: 128,
});
await Promise.all(
  Array.from(
    { length: cores },
    (_, i) => pool.submit((x: number) => x, i).result(),
  ),
); // start the processes first: we time the work, not their start-up
started = performance.now();
total = 0;
for await (const count of pool.map(countPrimes, starts, ends)) total += count;
const pooled = performance.now() - started;
console.log(`${cores} processes: ${total} primes in ${pooled.toFixed(0)} ms`);
console.log(`speedup: ${(oneThread / pooled).toFixed(2)}x`);

// A runaway task is really stopped: its process is killed.
try {
  await pool.run(
    () => {
      while (true) { /* runaway */ }
    },
    [],
    { timeout: 300 },
  ).result();
} catch (error) {
  if (!(error instanceof TimeoutError)) throw error;
  console.log(`runaway task: ${error.message}`);
}
