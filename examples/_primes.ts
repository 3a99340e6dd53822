// Shared by the two CPU examples: count the primes below 2,000,000 in
// ranges on one thread, then on a pool, and print the speedup.
import type { Executor } from "@concurrent/futures";

/** Self-contained, so its source can run in a worker. */
export function countPrimes(from: number, to: number): number {
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

/** Times the count on this thread and on `pool`'s `workers` workers. */
export async function compare(pool: Executor, workers: number, what: string) {
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

  // Start the workers first: we time the work, not their start-up.
  await Promise.all(
    Array.from(
      { length: workers },
      (_, i) => pool.submit((x: number) => x, i).result(),
    ),
  );
  started = performance.now();
  total = 0;
  for await (const count of pool.map(countPrimes, starts, ends)) total += count;
  const pooled = performance.now() - started;
  console.log(`${workers} ${what}: ${total} primes in ${pooled.toFixed(0)} ms`);
  console.log(`speedup: ${(oneThread / pooled).toFixed(2)}x`);
}

/**
 * A module task for the cluster example: the count, and which program
 * counted it (in a thread pool, `Deno.pid` is the node's own).
 */
export function countPrimesWhere(
  from: number,
  to: number,
): { count: number; pid: number } {
  return { count: countPrimes(from, to), pid: Deno.pid };
}
