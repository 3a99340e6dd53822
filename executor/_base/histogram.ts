// A histogram of durations (ms) in a fixed number of buckets, so memory stays
// the same over millions of samples: log-linear buckets, 32 per power of
// two from 2^-10 ms (~1 µs) to 2^32 ms (~50 days), so a percentile is off by
// at most 1/64 of its value (~1.6%) either way from the bucket's midpoint.
import type { Summary } from "../stats.ts";

const SUB = 32; // buckets per power of two
const SUB_BITS = 5; // log2(SUB)
const MIN_EXP = -10;
const MAX_EXP = 32;
const BUCKETS = (MAX_EXP - MIN_EXP) * SUB;

// A float64's exponent and top mantissa bits, read without Math.log.
const float = new Float64Array(1);
const words = new Uint32Array(float.buffer);
const HIGH = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;

/** Durations in a fixed-size histogram. */
export class Histogram {
  readonly #counts = new Uint32Array(BUCKETS);
  #count = 0;
  #sum = 0;
  #max = 0;

  /** Adds one duration (ms). */
  add(ms: number): void {
    this.#count++;
    this.#sum += ms;
    if (ms > this.#max) this.#max = ms;
    this.#counts[Histogram.#bucket(ms)]++;
  }

  /** Count, mean, p50, p90, p99 and max of what was added. */
  summary(): Summary {
    const count = this.#count;
    if (count === 0) return { count, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 };
    return {
      count,
      mean: this.#sum / count,
      p50: this.#quantile(0.5),
      p90: this.#quantile(0.9),
      p99: this.#quantile(0.99),
      max: this.#max,
    };
  }

  /** How many durations were added. */
  get count(): number {
    return this.#count;
  }

  /** Their sum (ms). */
  get sum(): number {
    return this.#sum;
  }

  /**
   * For each bound (ms, ascending), how many durations fell in the buckets
   * that end at or below it: exact when the bound is a bucket edge, a power
   * of two times 1 + n/32 (1, 2.5, 5, 10, 25, 50, 100, 200, 400, 800 ms
   * are; 250 and 1000 are not), else the bucket holding it is left out.
   */
  countUpTo(bounds: readonly number[]): number[] {
    const counts: number[] = [];
    let seen = 0;
    let i = 0;
    for (const bound of bounds) {
      while (i < BUCKETS - 1 && Histogram.#lower(i + 1) <= bound) {
        seen += this.#counts[i++];
      }
      counts.push(bound === Infinity ? this.#count : seen);
    }
    return counts;
  }

  // The midpoint of the bucket holding the q-th sample, capped at max.
  #quantile(q: number): number {
    const rank = Math.ceil(q * this.#count);
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i];
      if (seen >= rank) return Math.min(Histogram.#middle(i), this.#max);
    }
    return this.#max;
  }

  static #bucket(ms: number): number {
    if (!(ms > 0)) return 0;
    float[0] = ms;
    const high = words[HIGH];
    const exp = ((high >>> 20) & 0x7ff) - 1023;
    if (exp < MIN_EXP) return 0;
    if (exp >= MAX_EXP) return BUCKETS - 1;
    const sub = (high >>> (20 - SUB_BITS)) & (SUB - 1);
    return (exp - MIN_EXP) * SUB + sub;
  }

  // Where a bucket starts (bucket 0 also holds everything below).
  static #lower(bucket: number): number {
    const exp = Math.floor(bucket / SUB) + MIN_EXP;
    return 2 ** exp * (1 + (bucket % SUB) / SUB);
  }

  static #middle(bucket: number): number {
    const exp = Math.floor(bucket / SUB) + MIN_EXP;
    const sub = bucket % SUB;
    return 2 ** exp * (1 + (sub + 0.5) / SUB);
  }
}
