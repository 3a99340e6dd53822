// map over URLs: results come in input order, and a failing URL's error is
// thrown at its position, ending the loop (as in Python).
import { ThreadPoolExecutor } from "@concurrent/futures";
import { startLocalSite } from "./_server.ts";

async function pageSize(url: string): Promise<number> {
  const response = await fetch(url);
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`${url} answered HTTP ${response.status}`);
  }
  return (await response.arrayBuffer()).byteLength;
}

await using site = startLocalSite();
await using executor = new ThreadPoolExecutor({ maxWorkers: 3 });
let i = 0;
try {
  for await (const size of executor.map(pageSize, site.urls)) {
    console.log(`${site.urls[i++]}: ${size} bytes`);
  }
} catch (error) {
  console.log(`${site.urls[i]} failed: ${(error as Error).message}`);
}
