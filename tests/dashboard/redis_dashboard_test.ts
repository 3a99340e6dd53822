/// <reference lib="dom" />
// The Redis dashboard program (executor/redis/dashboard_main.ts) in a real
// browser: a private redis-server, two node programs, the dashboard program
// on the queue, tasks from a RedisExecutor; Chromium, driven by puppeteer,
// reads what a person would read off the page, then again after the
// program restarts (the history is in Redis, not in the program).
import assert from "node:assert/strict";
import puppeteer, { type Browser, type Page } from "npm:puppeteer-core@25.16.0";
import { reportProgress } from "@concurrent/futures";
import { RedisExecutor } from "@concurrent/futures/redis";
import { deadline } from "../_deadline.ts";
import { CHROMIUM, requireChromium } from "./_chromium.ts";
import { requireRedis, startRedis } from "../executor/redis/_redis_server.ts";
import { startNode } from "../executor/redis/_nodes.ts";
import { firstProgress, until, WAIT_MS } from "../executor/redis/_cluster.ts";

const ignore = !(requireChromium() && requireRedis());

const DASHBOARD_MAIN =
  new URL("../../executor/redis/dashboard_main.ts", import.meta.url).pathname;
const CONFIG = new URL("../../deno.json", import.meta.url).pathname;

function square(x: number): number {
  return x * x;
}

function explode(code: number): never {
  throw new TypeError(`kaboom ${code}`);
}

// Reports 0.42, then runs until the file `release` exists (the node runs
// its tasks with --permissions inherit).
async function watched(release: string): Promise<string> {
  reportProgress(0.42);
  for (;;) {
    try {
      Deno.statSync(release);
      return "released";
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/** The dashboard program, running; `stop()` sends SIGTERM and waits. */
interface DashboardProgram {
  url: string;
  stop(): Promise<number>;
}

async function startDashboard(
  redisUrl: string,
  queue: string,
  token: string,
): Promise<DashboardProgram> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--config",
      CONFIG,
      DASHBOARD_MAIN,
      "--url",
      redisUrl,
      "--queue",
      queue,
      "--port",
      "0",
      "--token",
      token,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  const ready = (async () => {
    while (!seen.includes("\n")) {
      const { value, done } = await lines.read();
      if (done) throw new Error(`the dashboard exited: ${await stderr}`);
      seen += value;
    }
    return seen.split("\n")[0];
  })();
  let line: string;
  try {
    line = await deadline(ready, WAIT_MS, "the dashboard's ready line");
  } catch (error) {
    child.kill("SIGKILL");
    await lines.cancel();
    await child.status;
    await stderr;
    throw error;
  }
  const match = line.match(
    /^Redis dashboard of queue \S+ ready: (http:\/\/127\.0\.0\.1:\d+\/)/,
  );
  assert.ok(match !== null, `unexpected line: ${line}`);
  const drained = (async () => {
    while (!(await lines.read()).done);
  })();
  let stopping: Promise<number> | undefined;
  return {
    url: match[1],
    stop() {
      stopping ??= (async () => {
        child.kill("SIGTERM");
        const { code } = await deadline(
          child.status,
          WAIT_MS,
          "the dashboard exiting",
        );
        await drained;
        await stderr;
        return code;
      })();
      return stopping;
    },
  };
}

// Waits until `fn` is true in the page; fails naming `what` past WAIT_MS.
async function pageShows(
  page: Page,
  what: string,
  // deno-lint-ignore no-explicit-any
  fn: (arg: any) => boolean,
  arg: unknown,
): Promise<void> {
  try {
    await page.waitForFunction(fn, { timeout: WAIT_MS, polling: 100 }, arg);
  } catch (error) {
    throw new Error(`the page did not show ${what} within ${WAIT_MS} ms`, {
      cause: error,
    });
  }
}

// Bars of the Task stream, by function and outcome.
async function barCounts(page: Page): Promise<Record<string, number>> {
  const bars = await page.$$eval(
    "rect.bar",
    (els) =>
      els.map((el) =>
        `${el.getAttribute("data-fn")} ${el.getAttribute("data-outcome")}`
      ),
  );
  const counts: Record<string, number> = {};
  for (const bar of bars) counts[bar] = (counts[bar] ?? 0) + 1;
  return counts;
}

Deno.test({
  name:
    "Redis dashboard program shows the nodes with their workers, the task stream, a failure, a running task's progress and stats(), and the same history after a restart",
  ignore,
  sanitizeResources: true,
  async fn() {
    await using redis = await startRedis();
    const queue = `q-${crypto.randomUUID().slice(0, 8)}`;
    const setup = { maxWorkers: 2, permissions: "inherit" as const };
    await using a = await startNode(redis.url, queue, setup);
    await using b = await startNode(redis.url, queue, setup);
    let dashboard = await startDashboard(redis.url, queue, "t0k3n");
    const dir = await Deno.makeTempDir({ prefix: "redis-dashboard-" });
    const release = `${dir}/release`;
    let browser: Browser | undefined;
    let executor: RedisExecutor | undefined;
    try {
      executor = new RedisExecutor({ url: redis.url, queue });
      browser = await puppeteer.launch({
        executablePath: CHROMIUM,
        args: ["--no-sandbox"],
        headless: true,
      });
      const page = await browser.newPage();
      await page.setViewport({ width: 1280, height: 800 });
      await page.goto(`${dashboard.url}?token=t0k3n`);

      const results = [2, 3, 4].map((n) => executor!.submit(square, n));
      const failing = executor.submit(explode, 42);
      await deadline(
        Promise.allSettled([...results, failing].map((f) => f.result())),
        WAIT_MS,
        "the finished tasks",
      );
      const running = executor.submit(watched, release);
      await firstProgress(running, "the progress value");

      // The running task's progress, as the page draws it from the events.
      await pageShows(
        page,
        "the running task's progress 0.42",
        () => document.querySelector('[data-progress="0.42"]') !== null,
        0,
      );
      const progressText = await page.$eval(
        '[data-progress="0.42"]',
        (el) => el.textContent ?? "",
      );
      assert.match(progressText, /watched/);
      assert.match(progressText, /42%/);
      assert.equal((await barCounts(page))["watched running"], 1);

      // Release it; the page catches up with stats().
      await Deno.writeTextFile(release, "");
      assert.equal(
        await deadline(running.result(), WAIT_MS, "the watched task"),
        "released",
      );
      // stats() reads the live nodes in the background, once a second.
      await until(
        () => executor!.stats().workers === 4,
        "stats() seeing both nodes",
      );
      const stats = executor.stats();
      assert.equal(stats.completed, 4);
      assert.equal(stats.failed, 1);
      const tilesMatch = (expected: Record<string, string>) => {
        for (const [key, text] of Object.entries(expected)) {
          const tile = document.querySelector(`[data-stat="${key}"] .v`);
          if (tile?.textContent !== text) return false;
        }
        return true;
      };
      const expected = {
        completed: String(stats.completed),
        failed: String(stats.failed),
        cancelled: String(stats.cancelled),
        queued: String(stats.queued),
        running: String(stats.running),
        workers: `${stats.busy} / ${stats.workers}`,
      };
      await pageShows(page, "the figures of stats()", tilesMatch, expected);

      // Workers: both nodes, with their workers and what they did.
      const rowsDone = (total: number) =>
        [...document.querySelectorAll("[data-worker]")].reduce(
          (sum, row) =>
            sum +
            Number(row.querySelector('[data-col="completed"]')?.textContent),
          0,
        ) === total;
      await pageShows(page, "the nodes' counts", rowsDone, stats.completed);
      const rows = await page.$$eval(
        "[data-worker]",
        (els) =>
          els.map((row) => ({
            id: (row as HTMLElement).dataset.worker,
            workers: Number(
              row.querySelector('[data-col="workers"]')?.textContent,
            ),
            failed: Number(
              row.querySelector('[data-col="failed"]')?.textContent,
            ),
          })),
      );
      assert.deepEqual(rows.map((r) => r.id).sort(), [a.id, b.id].sort());
      assert.ok(rows.every((r) => r.workers === 2));
      assert.equal(rows.reduce((sum, r) => sum + r.failed, 0), stats.failed);
      // A lane per worker of each node.
      const lanes = await page.$$eval(
        "[data-lane]",
        (els) => els.map((el) => (el as HTMLElement).dataset.lane),
      );
      for (const id of [a.id, b.id]) {
        assert.ok(lanes.includes(`${id}#1`) && lanes.includes(`${id}#2`));
      }

      // Task stream: a bar per finished task, the failure marked.
      const history = {
        "square completed": 3,
        "explode failed": 1,
        "watched completed": 1,
      };
      assert.deepEqual(await barCounts(page), history);

      // Progress per function.
      const squareRow = await page.$eval(
        '[data-function="square"]',
        (el) => el.textContent ?? "",
      );
      assert.match(squareRow, /3 \/ 3 done/);

      // Failures: the message and its node at once, the stack on click.
      const failure = async () => ({
        message: await page.$eval(
          ".failure [data-message]",
          (el) => el.textContent,
        ),
        where: await page.$eval(".failure .where", (el) => el.textContent),
      });
      const first = await failure();
      assert.equal(first.message, "kaboom 42");
      assert.ok(
        first.where!.includes(`node ${a.id}`) ||
          first.where!.includes(`node ${b.id}`),
      );
      await page.click(".failure summary");
      const stack = await page.$eval(".failure pre", (el) => el.textContent);
      assert.match(stack ?? "", /TypeError: kaboom 42/);
      assert.match(stack ?? "", /explode/);

      // Restarted, the program shows the same history: it is in Redis.
      assert.equal(await dashboard.stop(), 0);
      dashboard = await startDashboard(redis.url, queue, "t0k3n");
      await page.goto(`${dashboard.url}?token=t0k3n`);
      await pageShows(
        page,
        "the figures after a restart",
        tilesMatch,
        expected,
      );
      assert.deepEqual(await barCounts(page), history);
      assert.deepEqual(await failure(), first);
    } finally {
      await Deno.writeTextFile(release, "").catch(() => {});
      await browser?.close();
      await executor?.shutdown();
      await dashboard.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
