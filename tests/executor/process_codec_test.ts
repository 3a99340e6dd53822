// The process channel's codec (executor/_process/codec.ts): whatever path a
// message takes, JSON or node:v8, the other end gets what structured clone
// would give, and cloning runs a getter once.
import assert from "node:assert/strict";
import * as v8 from "node:v8";
import { PROTOCOL } from "../../executor/_wire/protocol.ts";
import { codec } from "../../executor/_process/codec.ts";

const loaded = codec(PROTOCOL, () => v8, () => true);
const unloaded = codec(PROTOCOL, () => v8, () => false);

const isV8 = (body: Uint8Array) => body[0] === 0xff;

function roundTrip(c: typeof loaded, value: unknown) {
  const body = c.encode([PROTOCOL.RUN, 1, value]);
  const back = c.decode(body) as unknown[];
  return { body, value: back[2] };
}

const sparse = [1, , 3];
const match = /b/.exec("abc")!;
// As many keys as items: only the hole tells.
const holeAndExtra = Object.assign([1, , 3], { x: 1 });
class Point {
  constructor(public x: number, public y: number) {}
}
const cases: [string, unknown, "json" | "v8"][] = [
  ["numbers", [0, 1.5, -2, 1e21, 5e-324, Number.MAX_VALUE], "json"],
  ["specials", [NaN, Infinity, -Infinity, -0, undefined], "json"],
  ["bigints", [0n, -12345678901234567890n], "json"],
  ["strings", ["", 'a"b\\c\n', "\u0000s", "\u0000", "\ud800", "é😀"], "json"],
  ["nested", { a: { b: [{ c: null, d: true }] }, e: undefined }, "json"],
  ["__proto__", JSON.parse('{"__proto__": 1, "x": 2}'), "json"],
  [
    "__proto__ undefined",
    (() => {
      const o = {};
      Object.defineProperty(o, "__proto__", {
        value: undefined,
        enumerable: true,
        writable: true,
        configurable: true,
      });
      return o;
    })(),
    "json",
  ],
  ["integer keys", { b: 1, 2: "two", a: 3, 1: "one" }, "json"],
  ["null prototype", Object.assign(Object.create(null), { a: 1 }), "json"],
  [
    "non-enumerable dropped",
    Object.defineProperty({ a: 1 }, "h", {
      value: 2,
      enumerable: false,
    }),
    "json",
  ],
  ["symbol key dropped", { a: 1, [Symbol("s")]: 2 }, "json"],
  ["sparse array", sparse, "v8"],
  ["array with extra properties", match, "v8"],
  ["array with a hole and an extra property", holeAndExtra, "v8"],
  ["class instance", new Point(1, 2), "v8"],
  ["date", new Date(5), "v8"],
  ["map and set", [new Map([[1, 2]]), new Set(["a"])], "v8"],
  ["typed array", new Float64Array([1.5, -0]), "v8"],
  ["error", new RangeError("r"), "v8"],
  ["regexp", /a+/gi, "v8"],
];

for (const [name, value, path] of cases) {
  Deno.test(`process codec: ${name} comes back as structured clone gives it (${path})`, () => {
    const expected = structuredClone(value);
    for (const c of [loaded, unloaded]) {
      const { body, value: back } = roundTrip(c, value);
      assert.equal(isV8(body) ? "v8" : "json", path);
      assert.deepStrictEqual(back, expected);
    }
  });
}

Deno.test("process codec: an object met twice keeps its sharing (node:v8)", () => {
  const shared = { n: 1 };
  const { body, value } = roundTrip(loaded, [shared, shared]);
  assert.ok(isV8(body));
  const [a, b] = value as object[];
  assert.equal(a, b);
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  const back = roundTrip(unloaded, cyclic).value as Record<string, unknown>;
  assert.equal(back.self, back);
});

Deno.test("process codec: a getter runs once, whichever path the message takes", () => {
  for (const c of [loaded, unloaded]) {
    let calls = 0;
    const value = {
      a: 1,
      get b() {
        calls++;
        return 2;
      },
    };
    const { body, value: back } = roundTrip(c, [1, value, new Map()]);
    assert.ok(isV8(body));
    assert.equal(calls, 1);
    assert.deepStrictEqual(back, [1, { a: 1, b: 2 }, new Map()]);
  }
});

Deno.test("process codec: a RESULTS record's mark runs its getter and comes back as its status", () => {
  const order: string[] = [];
  const mark = {
    get status() {
      order.push("mark");
      return PROTOCOL.OK;
    },
  };
  const message = [PROTOCOL.RESULTS, 7, mark, { v: 1 }, 0.5, 8, 0, 2, 0.1];
  const body = loaded.encode(message);
  assert.ok(!isV8(body));
  assert.deepEqual(order, ["mark"]);
  assert.deepStrictEqual(loaded.decode(body), [
    PROTOCOL.RESULTS,
    7,
    PROTOCOL.OK,
    { v: 1 },
    0.5,
    8,
    0,
    2,
    0.1,
  ]);
});

Deno.test("process codec: a big message goes by node:v8 once node:v8 is loaded, by JSON before", () => {
  const big = Array.from({ length: 1000 }, (_, i) => i);
  assert.ok(isV8(roundTrip(loaded, big).body));
  const { body, value } = roundTrip(unloaded, big);
  assert.ok(!isV8(body));
  assert.deepStrictEqual(value, big);
});

Deno.test("process codec: what node:v8 cannot serialize throws as node:v8 does", () => {
  for (const c of [loaded, unloaded]) {
    assert.throws(
      () => c.encode([PROTOCOL.RUN, 1, () => 1]),
      /could not be cloned/,
    );
  }
});

Deno.test("process codec: a getter's throw reaches the caller", () => {
  const hostile = {
    get x(): never {
      throw new SyntaxError("from the getter");
    },
  };
  assert.throws(() => loaded.encode([PROTOCOL.RUN, 1, hostile]), SyntaxError);
});

Deno.test("process codec: deep nesting comes back, by either path", () => {
  // node:v8's own serializer overflows its stack near 3,000 levels.
  let deep: unknown = null;
  for (let i = 0; i < 2_000; i++) deep = { next: deep };
  for (const c of [loaded, unloaded]) {
    let depth = 0;
    let v = roundTrip(c, deep).value as { next: unknown } | null;
    for (; v; v = v.next as typeof v) depth++;
    assert.equal(depth, 2_000);
  }
});
