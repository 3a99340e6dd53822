// CPU work across workers: count the primes below 2,000,000 in ranges, on
// one thread and then on every core, and print the speedup. (On Deno, CPU
// code runs about 1.25x slower in a Worker than on the main thread, so two
// cores give about 1.5x, not 2x.)
import { ThreadPoolExecutor } from "@concurrent/futures";
import { compare } from "./_primes.ts";

const cores = navigator.hardwareConcurrency;
await using pool = new ThreadPoolExecutor({ maxWorkers: cores });
await compare(pool, cores, "workers");
