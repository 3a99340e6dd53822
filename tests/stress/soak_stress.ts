// Soak (`deno task stress`): 1,000,000 tiny tasks through each executor
// with the program's memory sampled every 100,000 after a full GC (run with
// --v8-flags=--expose-gc; without it V8 grows its heap lazily and RSS says
// little). Memory stays flat: nothing a settled task leaves behind
// accumulates.
import assert from "node:assert/strict";
import {
  type Executor,
  ProcessPoolExecutor,
  ThreadPoolExecutor,
} from "../../mod.ts";
import { deadline } from "../_deadline.ts";

const TASKS = 1_000_000;
const WAVE = 20_000;
const SAMPLE_EVERY = 100_000;
const MB = 1024 * 1024;

interface Sample {
  rss: number;
  heap: number;
}

async function soak(pool: Executor): Promise<Sample[]> {
  const gc = (globalThis as { gc?: () => void }).gc;
  assert.ok(gc, "run with --v8-flags=--expose-gc");
  const samples: Sample[] = [];
  const double = (x: number) => x * 2;
  for (let done = 0; done < TASKS; done += WAVE) {
    const futures = Array.from(
      { length: WAVE },
      (_, i) => pool.submit(double, done + i),
    );
    const values = await Promise.all(futures.map((f) => f.result()));
    assert.equal(values[WAVE - 1], (done + WAVE - 1) * 2);
    if ((done + WAVE) % SAMPLE_EVERY === 0) {
      gc();
      const { rss, heapUsed } = Deno.memoryUsage();
      samples.push({ rss: rss / MB, heap: heapUsed / MB });
    }
  }
  await pool.shutdown();
  return samples;
}

// After the first sample (warm-up), the second half may not grow past the
// first half's peak by more than a margin for allocator noise.
function assertFlat(samples: Sample[], what: string): void {
  const show = (key: keyof Sample) =>
    samples.map((s) => s[key].toFixed(0)).join(" ");
  console.log(`${what} MB every ${SAMPLE_EVERY} tasks: RSS ${show("rss")}`);
  console.log(`${what} MB every ${SAMPLE_EVERY} tasks: heap ${show("heap")}`);
  const half = Math.floor(samples.length / 2);
  for (const key of ["rss", "heap"] as const) {
    const early = Math.max(...samples.slice(1, half).map((s) => s[key]));
    const late = Math.max(...samples.slice(half).map((s) => s[key]));
    assert.ok(
      late <= early * 1.1 + 4,
      `${what}: ${key} grew from ${early.toFixed(0)} MB to ${
        late.toFixed(0)
      } MB`,
    );
  }
}

for (
  const make of [
    () => new ThreadPoolExecutor({ maxWorkers: 2 }),
    () => new ProcessPoolExecutor({ maxWorkers: 2 }),
  ]
) {
  const name = make.toString().includes("Thread")
    ? "ThreadPoolExecutor"
    : "ProcessPoolExecutor";
  Deno.test(`${name} runs ${TASKS} tiny tasks in flat memory`, async () => {
    const samples = await deadline(soak(make()), 600_000, "soak");
    assertFlat(samples, name);
  });
}
