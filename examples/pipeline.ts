// The URL seed as a task graph: load each page, parse each page, then one
// task that merges the counts. Each task takes the futures of the tasks it
// needs as arguments, so everything is submitted at once and no value makes
// a round trip through this program between two tasks. The same pipeline
// written by hand (await each result, then submit the next) is timed beside
// it; an error (the broken page) reaches the task that depends on it; and a
// page that fails twice before it answers is loaded with retries.
import { type Future, ThreadPoolExecutor } from "@concurrent/futures";
import { startLocalSite } from "./_server.ts";

// Self-contained tasks: their source runs in the workers.
async function load(url: string): Promise<string> {
  const response = await fetch(url);
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`HTTP ${response.status} from ${url}`);
  }
  return await response.text();
}

function parse(text: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const char of text) counts[char] = (counts[char] ?? 0) + 1;
  return counts;
}

function merge(...all: Record<string, number>[]): Record<string, number> {
  const total: Record<string, number> = {};
  for (const counts of all) {
    for (const [key, n] of Object.entries(counts)) {
      total[key] = (total[key] ?? 0) + n;
    }
  }
  return total;
}

await using site = startLocalSite();
await using pool = new ThreadPoolExecutor({ maxWorkers: 4 });
const good = site.urls.slice(0, -1);
const broken = site.urls.at(-1)!;

// As a graph: every task submitted now, each waiting for its inputs.
function asGraph(): Promise<Record<string, number>> {
  const parsed = good.map((url) => pool.submit(parse, pool.submit(load, url)));
  const total: Future<Record<string, number>> = pool.submit(merge, ...parsed);
  return total.result();
}

// By hand: each result comes back here before the next task is submitted.
async function byHand(): Promise<Record<string, number>> {
  const counts = await Promise.all(good.map(async (url) => {
    const text = await pool.submit(load, url).result();
    return await pool.submit(parse, text).result();
  }));
  return await pool.submit(merge, ...counts).result();
}

// Timed in turns after a warm-up (the workers' start is no one's cost);
// the median of five each.
async function median(run: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    await run();
    times.push(performance.now() - started);
  }
  return times.toSorted((a, b) => a - b)[2];
}
await byHand();
const graph = await asGraph();
const manual = await byHand();
const graphMs = await median(asGraph);
const handMs = await median(byHand);

console.log(`characters counted over ${good.length} pages:`, graph);
console.log(
  `same result by hand: ${JSON.stringify(graph) === JSON.stringify(manual)}`,
);
console.log(
  `as a graph ${graphMs.toFixed(1)} ms; by hand with await ${
    handMs.toFixed(1)
  } ms`,
);

// The broken page's error reaches the parse that depends on it.
const failed = pool.submit(parse, pool.submit(load, broken));
console.log(
  `parse of ${new URL(broken).pathname}: ${await failed.exception()}`,
);

// Retries: the flaky page answers 503 twice; the third attempt loads it.
const flaky = pool.run(load, [site.flaky], { retries: 3, retryDelay: 20 });
const flakyCounts = await pool.submit(parse, flaky).result();
console.log(
  `${new URL(site.flaky).pathname} after ${pool.stats().retried} retries:`,
  flakyCounts,
);
