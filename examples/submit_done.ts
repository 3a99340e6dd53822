// Python's first seed program: two submits of a task that waits 2 s and
// returns its message; done() before and after; then result().
import { ThreadPoolExecutor } from "@concurrent/futures";

async function waitOnFuture(message: string): Promise<string> {
  await new Promise((resolve) => setTimeout(resolve, 2000));
  return message;
}

await using executor = new ThreadPoolExecutor({ maxWorkers: 2 });
const future1 = executor.submit(waitOnFuture, "future1 done");
const future2 = executor.submit(waitOnFuture, "future2 done");
console.log(`future1.done(): ${future1.done()}`);
console.log(`future2.done(): ${future2.done()}`);
console.log(await future1.result());
console.log(await future2.result());
console.log(`future1.done(): ${future1.done()}`);
console.log(`future2.done(): ${future2.done()}`);
