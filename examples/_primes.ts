// Shared by the examples: count the primes below 2,000,000 in ranges on
// one thread, then on a pool, and print the speedup; and the watched work of
// the progress and dashboard examples (and the dashboard's screenshot).
import { type Executor, reportProgress } from "@concurrent/futures";

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

/**
 * The count, reporting how far it has come (a fraction) every 10,000
 * numbers. Self-contained, so its source can run in a worker:
 * `reportProgress` is a global there.
 */
export function countPrimesReporting(from: number, to: number): number {
  let count = 0;
  for (let n = Math.max(from, 2); n < to; n++) {
    if ((n - from) % 10_000 === 0) reportProgress((n - from) / (to - from));
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

/**
 * Checks a range's count against the estimate (to - from) / ln(middle):
 * a count off by more than `tolerance` (a fraction) fails, so that a
 * dashboard has failures to show.
 */
export function checkCount(
  from: number,
  to: number,
  count: number,
  tolerance: number,
): number {
  const expected = (to - from) / Math.log((from + to) / 2);
  const off = Math.abs(count - expected) / expected;
  if (off > tolerance) {
    throw new RangeError(
      `${count} primes in [${from}, ${to}) is ${
        (off * 100).toFixed(2)
      }% off the estimate ${expected.toFixed(0)}`,
    );
  }
  return off;
}
