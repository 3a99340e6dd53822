// `deno task screenshot`: docs/dashboard.png, the real page of a pool at
// work, taken by Chromium (puppeteer) at 1280x800. Flags: --out FILE,
// --width N, --height N, --seconds N (of work before the shot).
import puppeteer from "npm:puppeteer-core@25.16.0";
import { serveDashboard, ThreadPoolExecutor } from "@concurrent/futures";
import { checkCount, countPrimesReporting } from "../examples/_primes.ts";

function flag(name: string, fallback: string): string {
  const at = Deno.args.indexOf(`--${name}`);
  return at >= 0 ? Deno.args[at + 1] : fallback;
}
const out = flag("out", new URL("dashboard.png", import.meta.url).pathname);
const width = Number(flag("width", "1280"));
const height = Number(flag("height", "800"));
const seconds = Number(flag("seconds", "20"));

function render(rows: number): string {
  let text = "";
  for (let i = 0; i < rows; i++) text += `<tr><td>${i}</td></tr>`;
  return text;
}

await using pool = new ThreadPoolExecutor({ maxWorkers: 4 });
await using board = serveDashboard(pool);
const stop = AbortSignal.timeout((seconds + 30) * 1000);
let done = false;
const STEP = 400_000;
const work = (async () => {
  for (let offset = 0; !done && !stop.aborted; offset += 8 * STEP) {
    await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => {
        const from = offset + i * STEP;
        return pool.submit(countPrimesReporting, from, from + STEP).result()
          .then((count) =>
            pool.submit(checkCount, from, from + STEP, count, 0.012).result()
          )
          .then(() => pool.submit(render, 20_000 + i * 10_000).result());
      }),
    );
  }
})();

const browser = await puppeteer.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox"],
  headless: true,
});
try {
  const page = await browser.newPage();
  await page.setViewport({ width, height });
  await page.goto(board.url);
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  await page.click('[data-range="30000"]');
  await page.waitForFunction(
    () => Number(document.body.dataset.updated) > Date.now() - 900,
    { timeout: 10_000 },
  );
  await page.screenshot({ path: out });
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
  done = true;
  await work;
}
