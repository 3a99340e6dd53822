/// <reference lib="dom" />
// The dashboard's page (dashboard/_page.ts) in a real browser: Chromium,
// driven by puppeteer, reads what a person would read off the page of a
// thread pool at work.
import assert from "node:assert/strict";
import puppeteer, { type Browser, type Page } from "npm:puppeteer-core@25.16.0";
import {
  type Future,
  reportProgress,
  serveDashboard,
  ThreadPoolExecutor,
} from "@concurrent/futures";
import { deadline } from "../_deadline.ts";
import { CHROMIUM, requireChromium } from "./_chromium.ts";

const ignore = !requireChromium();
// Generous: two cores shared with other test programs.
const WAIT_MS = 20_000;

function square(x: number): number {
  return x * x;
}

function explode(code: number): never {
  throw new TypeError(`kaboom ${code}`);
}

// Reports 0.42, then runs until the test sets flag[0].
async function watched(flag: Int32Array): Promise<string> {
  reportProgress(0.42);
  while (Atomics.load(flag, 0) === 0) {
    await Atomics.waitAsync(flag, 0, 0, 1000).value;
  }
  return "released";
}

async function launch(): Promise<Browser> {
  return await puppeteer.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox"],
    headless: true,
  });
}

// Waits until `fn` is true in the page; fails naming `what` past WAIT_MS.
async function pageShows(
  page: Page,
  what: string,
  fn: (arg: number) => boolean,
  arg = 0,
): Promise<void> {
  try {
    await page.waitForFunction(fn, { timeout: WAIT_MS, polling: 100 }, arg);
  } catch (error) {
    throw new Error(`the page did not show ${what} within ${WAIT_MS} ms`, {
      cause: error,
    });
  }
}

Deno.test({
  name:
    "serveDashboard() page shows the workers, the task stream's bars, a failure, a running task's progress and the stats()",
  ignore,
  async fn() {
    await using pool = new ThreadPoolExecutor({
      maxWorkers: 2,
      idleTimeout: 60_000,
    });
    await using board = serveDashboard(pool, { token: "t0k3n" });
    const browser = await launch();
    const flag = new Int32Array(new SharedArrayBuffer(4));
    let running: Future<string> | undefined;
    try {
      const page = await browser.newPage();
      await page.setViewport({ width: 1280, height: 800 });
      const apiCalls: string[] = [];
      page.on("request", (request) => {
        if (request.url().includes("/api/")) {
          apiCalls.push(request.headers()["authorization"] ?? "");
        }
      });
      await page.goto(`${board.url}?token=t0k3n`);

      const results = [2, 3, 4].map((n) => pool.submit(square, n));
      const failing = pool.submit(explode, 42);
      await deadline(
        Promise.allSettled([...results, failing].map((f) => f.result())),
        WAIT_MS,
        "the finished tasks",
      );
      running = pool.submit(watched, flag);
      const seen = Promise.withResolvers<void>();
      running.addProgressCallback(() => seen.resolve());
      await deadline(seen.promise, WAIT_MS, "the progress value");

      // The running task's progress, as the page draws it.
      await pageShows(
        page,
        "the running task's progress 0.42",
        () => document.querySelector('[data-progress="0.42"]') !== null,
      );
      const progressText = await page.$eval(
        '[data-progress="0.42"]',
        (el) => el.textContent ?? "",
      );
      assert.match(progressText, /watched/);
      assert.match(progressText, /42%/);
      const runningBars = await page.$$eval(
        'rect.bar[data-fn="watched"][data-outcome="running"]',
        (bars) => bars.length,
      );
      assert.equal(runningBars, 1);

      // Release it; the page catches up with stats().
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
      assert.equal(
        await deadline(running.result(), WAIT_MS, "the watched task"),
        "released",
      );
      const stats = pool.stats();
      assert.equal(stats.completed, 4);
      assert.equal(stats.failed, 1);
      await pageShows(
        page,
        `${stats.completed} completed`,
        (completed) =>
          document.querySelector('[data-stat="completed"] .v')?.textContent ===
            String(completed),
        stats.completed,
      );

      // The numbers match stats().
      const tiles = await page.$$eval(
        "[data-stat]",
        (els) =>
          Object.fromEntries(
            els.map((el) => [
              (el as HTMLElement).dataset.stat,
              el.querySelector(".v")?.textContent,
            ]),
          ),
      );
      assert.equal(tiles.completed, String(stats.completed));
      assert.equal(tiles.failed, String(stats.failed));
      assert.equal(tiles.cancelled, String(stats.cancelled));
      assert.equal(tiles.queued, String(stats.queued));
      assert.equal(tiles.running, String(stats.running));
      assert.equal(tiles.workers, `${stats.busy} / ${stats.workers}`);

      // Workers: each one listed, and what they did adds up.
      const workers = await page.$$eval(
        "[data-worker]",
        (rows) =>
          rows.map((row) => ({
            id: (row as HTMLElement).dataset.worker,
            completed: Number(
              row.querySelector('[data-col="completed"]')?.textContent,
            ),
            failed: Number(
              row.querySelector('[data-col="failed"]')?.textContent,
            ),
          })),
      );
      assert.deepEqual(
        workers.map((w) => w.id).sort(),
        ["ThreadPoolExecutor-1", "ThreadPoolExecutor-2"].slice(
          0,
          stats.workers,
        ),
      );
      assert.equal(
        workers.reduce((sum, w) => sum + w.completed, 0),
        stats.completed,
      );
      assert.equal(workers.reduce((sum, w) => sum + w.failed, 0), stats.failed);

      // Task stream: a bar per finished task, coloured by function, the
      // failure marked.
      const bars = await page.$$eval("rect.bar", (els) =>
        els.map((el) => ({
          fn: el.getAttribute("data-fn"),
          outcome: el.getAttribute("data-outcome"),
          fill: el.getAttribute("fill"),
          width: Number(el.getAttribute("width")),
        })));
      const count = (fn: string, outcome: string) =>
        bars.filter((b) => b.fn === fn && b.outcome === outcome).length;
      assert.equal(count("square", "completed"), 3);
      assert.equal(count("explode", "failed"), 1);
      assert.equal(count("watched", "completed"), 1);
      assert.ok(bars.every((b) => b.width > 0));
      const fills = (fn: string) =>
        new Set(bars.filter((b) => b.fn === fn).map((b) => b.fill));
      assert.equal(fills("square").size, 1);
      assert.notDeepEqual(fills("square"), fills("explode"));

      // Progress per function.
      const squareRow = await page.$eval(
        '[data-function="square"]',
        (el) => el.textContent ?? "",
      );
      assert.match(squareRow, /3 \/ 3 done/);
      const explodeRow = await page.$eval(
        '[data-function="explode"]',
        (el) => el.textContent ?? "",
      );
      assert.match(explodeRow, /0 \/ 1 done · 1 failed/);

      // Failures: the message at once, the stack on click.
      const message = await page.$eval(
        ".failure [data-message]",
        (el) => el.textContent,
      );
      assert.equal(message, "kaboom 42");
      const name = await page.$eval(
        ".failure summary b",
        (el) => el.textContent,
      );
      assert.equal(name, "TypeError");
      assert.equal(
        await page.$eval(".failure pre", (el) => el.checkVisibility()),
        false,
      );
      await page.click(".failure summary");
      const stack = await page.$eval(".failure pre", (el) => ({
        visible: el.checkVisibility(),
        text: el.textContent ?? "",
      }));
      assert.ok(stack.visible);
      assert.match(stack.text, /TypeError: kaboom 42/);
      assert.match(stack.text, /explode/);

      // It polls the API with the token from its URL.
      assert.ok(apiCalls.length >= 2);
      assert.ok(apiCalls.every((auth) => auth === "Bearer t0k3n"));
    } finally {
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
      await browser.close();
      await running?.result().catch(() => {});
    }
  },
});

Deno.test({
  name:
    "serveDashboard() page fits a phone's width (390 px) without scrolling sideways",
  ignore,
  async fn() {
    await using pool = new ThreadPoolExecutor({ maxWorkers: 2 });
    await using board = serveDashboard(pool);
    await deadline(
      Promise.all([1, 2, 3].map((n) => pool.submit(square, n).result())),
      WAIT_MS,
      "the tasks",
    );
    const browser = await launch();
    try {
      const page = await browser.newPage();
      await page.setViewport({ width: 390, height: 844 });
      await page.goto(board.url);
      await pageShows(
        page,
        "its first snapshot",
        () => document.body.dataset.updated !== undefined,
      );
      const widths = await page.evaluate(() => ({
        page: document.documentElement.scrollWidth,
        view: document.documentElement.clientWidth,
      }));
      assert.ok(
        widths.page <= widths.view,
        `the page is ${widths.page} px wide in a ${widths.view} px view`,
      );
      const bars = await page.$$eval("rect.bar", (els) => els.length);
      assert.equal(bars, 3);
    } finally {
      await browser.close();
    }
  },
});
