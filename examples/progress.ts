// A long job you can watch: the primes below 16,000,000 counted in 16 ranges,
// each task reporting how far it has come (reportProgress). On a terminal a
// live bar shows done/total, rate, ETA and each running task's own
// progress; otherwise (a pipe, `deno task example`) plain lines.
import { type Future, ThreadPoolExecutor } from "@concurrent/futures";
import { countPrimesReporting } from "./_primes.ts";

const LIMIT = 16_000_000;
const STEP = 1_000_000;

const tty = Deno.stdout.isTerminal();
const encoder = new TextEncoder();
const write = (text: string) => Deno.stdout.writeSync(encoder.encode(text));
const bar = (fraction: number, width: number) =>
  "█".repeat(Math.round(fraction * width)).padEnd(width, "░");
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

await using pool = new ThreadPoolExecutor();
const started = performance.now();
const running = new Map<number, number>(); // range start -> its progress
let primes = 0;
const futures: Future<number>[] = [];
for (let from = 0; from < LIMIT; from += STEP) {
  const future = pool.submit(countPrimesReporting, from, from + STEP);
  future.addProgressCallback((value) => running.set(from, value as number));
  future.addDoneCallback(() => running.delete(from));
  futures.push(future);
}

let drawn = 0; // lines the last frame took, to draw over them
let lastLine = 0;
function draw(final = false): void {
  const { completed, queued } = pool.stats();
  const total = futures.length;
  const elapsed = performance.now() - started;
  const rate = completed / (elapsed / 1000);
  const eta = rate > 0 ? ((total - completed) / rate) * 1000 : NaN;
  const summary = `${completed}/${total} ranges, ${primes} primes, ${
    rate.toFixed(1)
  } ranges/s, ETA ${final ? "done" : Number.isNaN(eta) ? "?" : seconds(eta)}`;
  if (!tty) {
    // A line a second, and the last one.
    if (final || elapsed - lastLine >= 1000) {
      lastLine = elapsed;
      console.log(`${summary}, ${running.size} running, ${queued} queued`);
    }
    return;
  }
  const lines = [`[${bar(completed / total, 30)}] ${summary}`];
  for (const [from, fraction] of [...running].sort((a, b) => a[0] - b[0])) {
    lines.push(
      `  ${String(from).padStart(9)}–${from + STEP}  [${bar(fraction, 20)}] ${
        (fraction * 100).toFixed(0).padStart(3)
      }%`,
    );
  }
  write(`${drawn > 0 ? `\x1b[${drawn}A` : ""}\x1b[J${lines.join("\n")}\n`);
  drawn = lines.length;
}

const timer = setInterval(draw, 100);
for (const future of futures) primes += await future.result();
clearInterval(timer);
draw(true);
console.log(
  `${primes} primes below ${LIMIT} in ${seconds(performance.now() - started)}`,
);
