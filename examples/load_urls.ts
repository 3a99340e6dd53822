// Python's as_completed seed program: load pages on workers and print each
// as it completes, with a Map from future to URL.
import {
  asCompleted,
  type Future,
  ThreadPoolExecutor,
} from "@concurrent/futures";
import { startLocalSite } from "./_server.ts";

// Self-contained: its source runs in the worker.
async function loadUrl(url: string, timeout: number): Promise<number> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeout) });
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`HTTP ${response.status}`);
  }
  return (await response.arrayBuffer()).byteLength;
}

await using site = startLocalSite();
await using executor = new ThreadPoolExecutor({ maxWorkers: 5 });
const futureToUrl = new Map<Future<number>, string>(
  site.urls.map((url) => [executor.submit(loadUrl, url, 60_000), url]),
);
for await (const future of asCompleted(futureToUrl.keys())) {
  const url = futureToUrl.get(future);
  try {
    console.log(`${url} page is ${await future.result()} bytes`);
  } catch (error) {
    console.log(`${url} generated an exception: ${error}`);
  }
}
