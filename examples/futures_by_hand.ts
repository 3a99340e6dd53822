// Futures made by hand and settled from timers (one fails), consumed with
// `wait` and `asCompleted`: the future side of the library, no workers.
import {
  asCompleted,
  FIRST_COMPLETED,
  Future,
  wait,
} from "@concurrent/futures";

function settleLater(name: string, ms: number, fail = false): Future<string> {
  const future = new Future<string>();
  setTimeout(() => {
    if (fail) future.setException(new Error(`${name} failed`));
    else future.setResult(`${name} after ${ms} ms`);
  }, ms);
  return future;
}

const futures = [
  settleLater("slow", 60),
  settleLater("fast", 10),
  settleLater("broken", 30, true),
];
const names = new Map(
  futures.map((f, i) => [f, ["slow", "fast", "broken"][i]]),
);

const { done, notDone } = await wait(futures, { returnWhen: FIRST_COMPLETED });
console.log(
  `wait(FIRST_COMPLETED): ${done.size} done (${
    [...done].map((f) => names.get(f)).join(", ")
  }), ${notDone.size} not done`,
);

for await (const future of asCompleted(futures, { timeout: 1000 })) {
  try {
    console.log(`${names.get(future)}: ${await future.result()}`);
  } catch (error) {
    console.log(`${names.get(future)} generated an exception: ${error}`);
  }
}
