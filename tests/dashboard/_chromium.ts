// The browser the dashboard's page tests drive (puppeteer-core, no
// download): /usr/bin/chromium. As with redis-server
// (tests/executor/redis/_redis_server.ts), a missing browser skips those
// tests with one loud line, except under CI=true, where it fails them.

/** Where the tests expect Chromium. */
export const CHROMIUM = "/usr/bin/chromium";

/** Whether `CHROMIUM` exists. */
export function chromiumAvailable(): boolean {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
}

let warned = false;

/**
 * Whether the browser tests can run: use as `ignore: !requireChromium()`.
 *
 * @returns true when Chromium is there; false (after one line on stderr)
 * when it is not and `CI` is not `true`.
 * @throws {Error} when Chromium is missing and `CI=true`: CI must run these
 * tests, never skip them.
 */
export function requireChromium(): boolean {
  if (chromiumAvailable()) return true;
  if (Deno.env.get("CI") === "true") {
    throw new Error(
      `${CHROMIUM} not found under CI=true: .ci/run must install it (apt-get install chromium)`,
    );
  }
  if (!warned) {
    warned = true;
    console.error(
      `Dashboard browser tests SKIPPED: ${CHROMIUM} not found; install it with \`apt-get install chromium\``,
    );
  }
  return false;
}
