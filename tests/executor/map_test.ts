// Executor.map (executor/executor.ts) on a ThreadPoolExecutor: zip, order,
// errors at their position, chunksize, buffersize, async inputs, leaving
// early, timeout from the call, and its option checks.
import assert from "node:assert/strict";
import { ShutdownError, ThreadPoolExecutor, TimeoutError } from "../../mod.ts";
import { deadline } from "../_deadline.ts";

const WAIT = 10_000;

// Collects a map's results, bounded.
async function collect<T>(
  results: AsyncIterable<T>,
  what = "map",
): Promise<T[]> {
  const out: T[] = [];
  await deadline(
    (async () => {
      for await (const value of results) out.push(value);
    })(),
    WAIT,
    what,
  );
  return out;
}

// A task that resolves with `value` after `ms` in the worker.
const later = <T>(ms: number, value: T): Promise<T> =>
  new Promise((resolve) => setTimeout(() => resolve(value), ms));

Deno.test("Executor.map() zips the iterables and stops at the shortest", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 2 });
  const add = (a: number, b: number) => a + b;
  assert.deepEqual(
    await collect(pool.map(add, [1, 2, 3], [5, 6, 7])),
    [6, 8, 10],
  );
  assert.deepEqual(await collect(pool.map(add, [1, 2, 3], [10, 20])), [
    11,
    22,
  ]);
  // An endless input is fine when another one ends.
  function* naturals() {
    for (let i = 0;; i++) yield i;
  }
  assert.deepEqual(
    await collect(pool.map(add, naturals(), [100, 100, 100])),
    [100, 101, 102],
  );
  assert.deepEqual(await collect(pool.map(add, [], naturals())), []);
});

Deno.test("Executor.map() yields results in input order when later tasks finish first", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 2 });
  const timed = async (ms: number) => {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return { ms, end: performance.timeOrigin + performance.now() };
  };
  const results = await collect(pool.map(timed, [200, 10, 10, 10]));
  assert.deepEqual(results.map((r) => r.ms), [200, 10, 10, 10]);
  // Precondition: the later ones did finish first.
  assert.ok(results[1].end < results[0].end);
  assert.ok(results[3].end < results[0].end);
});

Deno.test("Executor.map() throws a task's error at its position, after the earlier results", async () => {
  for (const chunksize of [1, 2]) {
    await using pool = new ThreadPoolExecutor({ maxWorkers: 2 });
    const check = (x: number) => {
      if (x === 3) throw new RangeError(`bad ${x}`);
      return x * 10;
    };
    const seen: number[] = [];
    const iteration = (async () => {
      for await (const value of pool.map(check, [1, 2, 3, 4], { chunksize })) {
        seen.push(value);
      }
    })();
    await assert.rejects(deadline(iteration, WAIT, "map"), {
      name: "RangeError",
      message: "bad 3",
    });
    assert.deepEqual(seen, [10, 20], `chunksize ${chunksize}`);
  }
});

Deno.test("Executor.map() gives the same results with chunksize", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 2 });
  const inputs = Array.from({ length: 23 }, (_, i) => i);
  const square = (x: number) => x * x;
  const expected = inputs.map((x) => x * x);
  for (const chunksize of [1, 2, 5, 23, 100]) {
    assert.deepEqual(
      await collect(pool.map(square, inputs, { chunksize })),
      expected,
      `chunksize ${chunksize}`,
    );
  }
  const add = (a: number, b: number) => a + b;
  assert.deepEqual(
    await collect(pool.map(add, [1, 2, 3], [10, 20, 30, 40], { chunksize: 2 })),
    [11, 22, 33],
  );
});

Deno.test("Executor.map() sends each chunk to one worker as one task", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 2 });
  // Each call reports its worker and that worker's call count.
  const count = (_: number) => {
    const g = globalThis as unknown as { calls?: number };
    g.calls = (g.calls ?? 0) + 1;
    return [(self as unknown as { name: string }).name, g.calls] as const;
  };
  const results = await collect(
    pool.map(count, Array(20).fill(0), { chunksize: 5 }),
  );
  assert.equal(results.length, 20);
  for (let chunk = 0; chunk < 20; chunk += 5) {
    const [name, first] = results[chunk];
    for (let i = 1; i < 5; i++) {
      assert.deepEqual(
        results[chunk + i],
        [name, first + i],
        `call ${chunk + i} ran right after call ${chunk + i - 1}, same worker`,
      );
    }
  }
});

Deno.test("Executor.map() keeps at most buffersize tasks in flight and reads its input lazily", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 2 });
  let pulled = 0;
  function* inputs() {
    for (let i = 0; i < 1000; i++) {
      pulled++;
      yield i;
    }
  }
  const buffersize = 3;
  const results = pool.map(later<number>, Array(1000).fill(10), inputs(), {
    buffersize,
  });
  assert.equal(pulled, buffersize, "read up to buffersize at the call");
  let yielded = 0;
  let inFlight = 0;
  const iteration = (async () => {
    for await (const value of results) {
      assert.equal(value, yielded);
      yielded++;
      // Read and not yet yielded: the tasks in flight.
      inFlight = Math.max(inFlight, pulled - yielded);
      if (yielded === 6) break;
    }
  })();
  await deadline(iteration, WAIT, "map with buffersize");
  assert.ok(inFlight <= buffersize, `${inFlight} tasks in flight`);
  assert.ok(inFlight >= buffersize - 1, `only ${inFlight} tasks in flight`);
  assert.ok(pulled <= 6 + buffersize, `pulled ${pulled}`);
});

Deno.test("Executor.map() without buffersize submits every task at the call", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  let pulled = 0;
  function* inputs() {
    for (let i = 0; i < 10; i++) {
      pulled++;
      yield i;
    }
  }
  const results = pool.map((x: number) => x, inputs());
  assert.equal(pulled, 10);
  assert.deepEqual(await collect(results), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

Deno.test("Executor.map() reads AsyncIterable inputs", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 2 });
  async function* numbers(n: number) {
    for (let i = 1; i <= n; i++) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      yield i;
    }
  }
  const double = (x: number) => x * 2;
  assert.deepEqual(await collect(pool.map(double, numbers(5))), [
    2,
    4,
    6,
    8,
    10,
  ]);
  // Mixed with a sync input, zipped, with chunks.
  const add = (a: number, b: number) => a + b;
  assert.deepEqual(
    await collect(pool.map(add, numbers(4), [10, 20, 30], { chunksize: 2 })),
    [11, 22, 33],
  );
});

Deno.test("Executor.map() reads an AsyncIterable lazily with buffersize", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 2 });
  let pulled = 0;
  async function* inputs() {
    for (let i = 0; i < 1000; i++) {
      pulled++;
      yield i;
    }
  }
  const buffersize = 2;
  let yielded = 0;
  let inFlight = 0;
  const iteration = (async () => {
    for await (
      const value of pool.map(later<number>, Array(1000).fill(5), inputs(), {
        buffersize,
      })
    ) {
      assert.equal(value, yielded);
      yielded++;
      inFlight = Math.max(inFlight, pulled - yielded);
      if (yielded === 5) break;
    }
  })();
  await deadline(iteration, WAIT, "async map with buffersize");
  assert.ok(inFlight <= buffersize, `${inFlight} tasks in flight`);
  assert.ok(inFlight >= buffersize - 1, `only ${inFlight} tasks in flight`);
  assert.ok(pulled <= 5 + buffersize, `pulled ${pulled}`);
});

Deno.test("Executor.map() cancels the tasks not yet started when the loop is left early", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  // Each task counts itself in the worker; the last one reads the count.
  const step = async (x: number) => {
    const g = globalThis as unknown as { ran?: number };
    g.ran = (g.ran ?? 0) + 1;
    await new Promise((resolve) => setTimeout(resolve, 20));
    return x;
  };
  const iteration = (async () => {
    for await (const value of pool.map(step, [1, 2, 3, 4, 5, 6, 7, 8, 9])) {
      if (value === 2) break;
    }
  })();
  await deadline(iteration, WAIT, "map left early");
  const ran = await deadline(
    pool.submit(() => (globalThis as unknown as { ran: number }).ran).result(),
    WAIT,
    "count",
  );
  // 1 and 2, and at most the one already sent when 2 came back.
  assert.ok(ran >= 2 && ran <= 3, `ran ${ran} of 9`);
});

Deno.test("Executor.map() cancels the tasks not yet started on return()", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const step = async (x: number) => {
    const g = globalThis as unknown as { ran?: number };
    g.ran = (g.ran ?? 0) + 1;
    await new Promise((resolve) => setTimeout(resolve, 20));
    return x;
  };
  const results = pool.map(step, [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(await deadline(results.next(), WAIT, "first"), {
    value: 1,
    done: false,
  });
  await deadline(results.return!(), WAIT, "return()");
  assert.deepEqual(await results.next(), { value: undefined, done: true });
  const ran = await deadline(
    pool.submit(() => (globalThis as unknown as { ran: number }).ran).result(),
    WAIT,
    "count",
  );
  assert.ok(ran >= 1 && ran <= 2, `ran ${ran} of 6`);
});

Deno.test("Executor.map() throws TimeoutError once timeout has passed since the call", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  // Each task is well within the timeout; all of them together are not.
  const start = performance.now();
  const results = pool.map(later<number>, Array(10).fill(40), [
    0,
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
    9,
  ], { timeout: 150 });
  const seen: number[] = [];
  const iteration = (async () => {
    for await (const value of results) seen.push(value);
  })();
  await assert.rejects(
    deadline(iteration, WAIT, "map with timeout"),
    (error) => {
      assert.ok(error instanceof TimeoutError, String(error));
      assert.match(error.message, /150 ms/);
      return true;
    },
  );
  const elapsed = performance.now() - start;
  // Not per task (each takes 40 ms), and not after all of them (400 ms).
  assert.ok(elapsed >= 140 && elapsed < 1000, `timed out after ${elapsed} ms`);
  assert.ok(seen.length >= 1 && seen.length < 10, `yielded ${seen.length}`);
  assert.deepEqual(seen, seen.map((_, i) => i));
});

Deno.test("Executor.map() counts timeout from the call, not from the first next()", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const results = pool.map(later<number>, [20, 20, 600], [0, 1, 2], {
    timeout: 350,
  });
  // The caller is busy elsewhere before it starts reading.
  await deadline(later(300, null), WAIT, "the caller's own work");
  const start = performance.now();
  const seen: number[] = [];
  const iteration = (async () => {
    for await (const value of results) seen.push(value);
  })();
  await assert.rejects(deadline(iteration, WAIT, "map"), TimeoutError);
  const waited = performance.now() - start;
  // The tasks done by then are still yielded.
  assert.deepEqual(seen, [0, 1]);
  // About 50 ms are left of the 350: not 350 from the first next().
  assert.ok(waited < 300, `waited ${waited} ms after the first next()`);
});

Deno.test("Executor.map() throws RangeError for chunksize 0", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  assert.throws(() => pool.map((x: number) => x, [1], { chunksize: 0 }), {
    name: "RangeError",
    message:
      "Cannot map as 'chunksize' must be an integer >= 1: current value is 0",
  });
});

Deno.test("Executor.map() throws RangeError for buffersize 1.5", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  assert.throws(() => pool.map((x: number) => x, [1], { buffersize: 1.5 }), {
    name: "RangeError",
    message: /'buffersize' must be an integer >= 1: current value is 1\.5/,
  });
});

Deno.test('Executor.map() throws TypeError for chunksize "2"', async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  // @ts-expect-error: a string is not a number
  assert.throws(() => pool.map((x: number) => x, [1], { chunksize: "2" }), {
    name: "TypeError",
    message: /'chunksize' must be a number/,
  });
});

Deno.test("Executor.map() throws RangeError for timeout -1", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  assert.throws(() => pool.map((x: number) => x, [1], { timeout: -1 }), {
    name: "RangeError",
    message: /'timeout' must be >= 0/,
  });
});

Deno.test("Executor.map() throws TypeError without an iterable", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  // @ts-expect-error: an iterable per parameter
  assert.throws(() => pool.map((x: number) => x), {
    name: "TypeError",
    message: /no iterable/,
  });
  // @ts-expect-error: 5 is not iterable
  assert.throws(() => pool.map((x: number) => x, 5), {
    name: "TypeError",
    message: /'iterables\[0\]' must be iterable: current value is 5 \(number\)/,
  });
});

Deno.test("Executor.map() throws TypeError at the call for something that is not a task", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  let pulled = 0;
  function* inputs() {
    for (let i = 0; i < 3; i++) {
      pulled++;
      yield i;
    }
  }
  assert.throws(() => pool.map(42 as never, inputs()), {
    name: "TypeError",
    message: /'fn' must be a function/,
  });
  assert.equal(pulled, 1, "the input is closed");
  assert.throws(() => pool.map(Math.abs, [1]), {
    name: "TypeError",
    message: /native function/,
  });
});

Deno.test("Executor.map() throws ShutdownError at the call after shutdown()", async () => {
  const pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  await deadline(pool.shutdown(), WAIT, "shutdown");
  assert.throws(() => pool.map((x: number) => x, [1, 2]), ShutdownError);
});

Deno.test("Executor.map() with buffersize throws ShutdownError when the pool shuts down mid-way", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const results = pool.map((x: number) => x, [1, 2, 3], { buffersize: 1 });
  assert.deepEqual(await deadline(results.next(), WAIT, "first"), {
    value: 1,
    done: false,
  });
  await deadline(pool.shutdown(), WAIT, "shutdown");
  await assert.rejects(deadline(results.next(), WAIT, "second"), ShutdownError);
});

Deno.test("Executor.map() throws an input's error after the results before it", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 2 });
  function* inputs() {
    yield 1;
    yield 2;
    yield 3;
    throw new SyntaxError("bad input");
  }
  for (const chunksize of [1, 2]) {
    const seen: number[] = [];
    const iteration = (async () => {
      for await (
        const value of pool.map((x: number) => x * 2, inputs(), { chunksize })
      ) {
        seen.push(value);
      }
    })();
    await assert.rejects(deadline(iteration, WAIT, "map"), {
      name: "SyntaxError",
      message: "bad input",
    });
    assert.deepEqual(seen, [2, 4, 6], `chunksize ${chunksize}`);
  }
});
