// CPU work on processes: count primes in ranges on `deno` child processes,
// each with a 128 MB heap limit, and print the speedup over one thread. A
// process pool is the one whose timeout kills a runaway task and whose
// memoryLimit contains one that runs out of memory.
import { ProcessPoolExecutor, TimeoutError } from "@concurrent/futures";
import { compare } from "./_primes.ts";

const cores = navigator.hardwareConcurrency;
await using pool = new ProcessPoolExecutor({
  maxWorkers: cores,
  memoryLimit: 128,
});
await compare(pool, cores, "processes");

// A runaway task is really stopped: its process is killed.
const spin = () => {
  while (true) Math.random();
};
try {
  await pool.run(spin, [], { timeout: 300 }).result();
} catch (error) {
  if (!(error instanceof TimeoutError)) throw error;
  console.log(`runaway task: ${error.message}`);
}
