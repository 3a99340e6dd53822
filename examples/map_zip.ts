// Python's map seed program: map over two iterables, zipped.
import { ThreadPoolExecutor } from "@concurrent/futures";

function testFunction(a: number, b: number): number {
  return a + b;
}

const xs = [1, 2, 3];
const ys = [5, 6, 7];
await using executor = new ThreadPoolExecutor();
let i = 0;
for await (const result of executor.map(testFunction, xs, ys)) {
  console.log(`${xs[i]} + ${ys[i]} = ${result}`);
  i++;
}
