// CPU work across workers: count the primes below 2,000,000 in ranges, on
// one thread and then on every core, and print the speedup. (On Deno, CPU
// code runs about 1.25x slower in a Worker than on the main thread, so two
// cores give about 1.5x, not 2x.)
import { ThreadPoolExecutor } from "../mod.ts";

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
console.log(
  `one thread: ${total} primes below ${LIMIT} in ${oneThread.toFixed(0)} ms`,
);

const cores = navigator.hardwareConcurrency;
await using pool = new ThreadPoolExecutor({ maxWorkers: cores });
await Promise.all(
  Array.from({ length: cores }, () => pool.submit(() => 0).result()),
); // start the workers first: we time the work, not their start-up
started = performance.now();
total = 0;
for await (const count of pool.map(countPrimes, starts, ends)) total += count;
const pooled = performance.now() - started;
console.log(`${cores} workers: ${total} primes in ${pooled.toFixed(0)} ms`);
console.log(`speedup: ${(oneThread / pooled).toFixed(2)}x`);
