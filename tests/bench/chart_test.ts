import assert from "node:assert/strict";
import {
  type BenchRecord,
  type BenchReport,
  renderChart,
} from "../../bench/chart.ts";

// Reports in the shape `deno bench --json` prints on Deno 2.9.6.
const ORIGIN = "file:///repo/bench/latency_bench.ts";

function ok(
  avg: number,
  extra: Record<string, number> = {},
): BenchRecord["results"] {
  return [{
    ok: {
      n: 20,
      min: avg * 0.9,
      max: avg * 1.2,
      avg,
      p75: avg * 1.05,
      p99: avg * 1.2,
      ...extra,
      // Fields the chart ignores, present in the real output.
      ...{ p995: avg * 1.2, p999: avg * 1.2, highPrecision: true },
    },
  }];
}

function bench(
  name: string,
  results: BenchRecord["results"],
  { group = "latency" as string | null, baseline = false, origin = ORIGIN } =
    {},
): BenchRecord {
  return { origin, group, name, baseline, results };
}

function report(...benches: BenchRecord[]): BenchReport {
  return {
    version: 1,
    runtime: "Deno/2.9.6 x86_64-unknown-linux-gnu",
    cpu: "Test CPU",
    benches,
  };
}

const failed: BenchRecord["results"] = [{
  failed: { name: "Error", message: "boom <x> & more" },
}];

/** Throws unless `xml` is one balanced, well-formed element tree. */
function assertWellFormed(xml: string): void {
  const name = "[A-Za-z_][\\w:.-]*";
  const value = `(?:"[^"<]*"|'[^'<]*')`;
  const tag = new RegExp(
    `<(/?)(${name})((?:\\s+${name}\\s*=\\s*${value})*)\\s*(/?)>`,
    "y",
  );
  const badAmpersand = /&(?!(?:lt|gt|amp|quot|apos|#\d+|#x[0-9a-f]+);)/i;
  const stack: string[] = [];
  let roots = 0;
  let i = 0;
  while (i < xml.length) {
    const lt = xml.indexOf("<", i);
    const content = xml.slice(i, lt === -1 ? xml.length : lt);
    assert.doesNotMatch(content, badAmpersand, `bare & in text at ${i}`);
    assert.ok(!content.includes(">"), `bare > in text at ${i}`);
    if (stack.length === 0) {
      assert.equal(content.trim(), "", `text outside the root at ${i}`);
    }
    if (lt === -1) break;
    tag.lastIndex = lt;
    const match = tag.exec(xml);
    assert.ok(match, `malformed tag at ${lt}: ${xml.slice(lt, lt + 40)}`);
    const [, close, tagName, attrs, selfClosing] = match;
    assert.doesNotMatch(attrs, badAmpersand, `bare & in <${tagName}>`);
    const names = [...attrs.matchAll(new RegExp(`(${name})\\s*=`, "g"))]
      .map((m) => m[1]);
    assert.equal(new Set(names).size, names.length, `<${tagName}> repeats`);
    if (close) {
      assert.equal(stack.pop(), tagName, `</${tagName}> closes the wrong tag`);
    } else {
      if (stack.length === 0) roots++;
      if (!selfClosing) stack.push(tagName);
    }
    i = tag.lastIndex;
  }
  assert.deepEqual(stack, [], "unclosed tags");
  assert.equal(roots, 1, "one root element");
}

interface DrawnRow {
  kind: string;
  /** Bar width in px, undefined when no bar is drawn. */
  width?: number;
  x?: number;
  /** The text of the row, tags stripped. */
  text: string;
}

/** The rows of a chart by name (as escaped in data-name). */
function rows(svg: string): Map<string, DrawnRow> {
  const found = new Map<string, DrawnRow>();
  const row = /<g class="row (\w+)" data-name="([^"]*)">(.*?)<\/g>/g;
  for (const [, kind, name, body] of svg.matchAll(row)) {
    const rect = body.match(
      /<rect class="bar" x="([\d.]+)" [^>]*width="([\d.]+)"/,
    );
    const text = body.replace(/<title>.*?<\/title>/, "").replace(
      /<[^>]+>/g,
      "",
    );
    found.set(name, {
      kind,
      x: rect ? Number(rect[1]) : undefined,
      width: rect ? Number(rect[2]) : undefined,
      text,
    });
  }
  return found;
}

function fillOf(svg: string, name: string): string {
  const match = svg.match(
    new RegExp(`data-name="${name}">.*?<rect class="bar" [^>]*fill="([^"]+)"`),
  );
  assert.ok(match, `no bar for ${name}`);
  return match[1];
}

const sample = report(
  bench("raw Worker", ok(2e6), { baseline: true }),
  bench("ThreadPoolExecutor", ok(3e6)),
  bench("piscina 5.3", ok(1e6)),
  bench("ProcessPoolExecutor (deno children)", ok(4e6)),
  bench("@concurrent/futures map", ok(2.5e6)),
  bench("bullmq", ok(2.2e6)),
);

Deno.test("assertWellFormed() rejects broken XML, so the checks below mean something", () => {
  assertWellFormed('<svg a="1"><g><text>a &amp; b</text></g><rect/></svg>');
  for (
    const bad of [
      "<svg><g></svg>",
      "<svg></g></svg>",
      "<svg><text>a & b</text></svg>",
      "<svg><text>a < b</text></svg>",
      '<svg a="<"></svg>',
      '<svg a="1" a="2"></svg>',
      "<svg/><svg/>",
    ]
  ) {
    assert.throws(() => assertWellFormed(bad), `accepted ${bad}`);
  }
});

Deno.test("renderChart() returns one well-formed SVG element", () => {
  const svg = renderChart(sample, { date: "2026-01-02", command: "x" });
  assertWellFormed(svg);
  assert.match(
    svg,
    /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="880" /,
  );
  assert.match(svg, /font-family="system-ui, sans-serif"/);
});

Deno.test("renderChart() draws bar widths proportional to the ratio against the baseline", () => {
  const drawn = rows(renderChart(sample));
  const floor = drawn.get("raw Worker")!.width!;
  assert.ok(floor > 50);
  const expected: [string, number][] = [
    ["ThreadPoolExecutor", 1.5],
    ["piscina 5.3", 0.5],
    ["ProcessPoolExecutor (deno children)", 2],
    ["@concurrent/futures map", 1.25],
  ];
  for (const [name, ratio] of expected) {
    const { width } = drawn.get(name)!;
    // Widths are rounded to 0.1 px.
    assert.ok(
      Math.abs(width! - floor * ratio) <= 0.2,
      `${name}: ${width} px, expected ${floor * ratio}`,
    );
  }
  assert.match(drawn.get("ThreadPoolExecutor")!.text, /1\.50× · 3\.00 ms/);
  assert.match(drawn.get("piscina 5.3")!.text, /0\.50× · 1\.00 ms/);
});

Deno.test("renderChart() marks the baseline bar and draws a line at 1.0×", () => {
  const svg = renderChart(sample);
  const drawn = rows(svg);
  const floor = drawn.get("raw Worker")!;
  assert.equal(floor.kind, "baseline");
  assert.match(floor.text, /1\.00× · 2\.00 ms · floor/);
  for (const [name, row] of drawn) {
    if (name !== "raw Worker") assert.doesNotMatch(row.text, /floor/);
  }
  const baselineFill = fillOf(svg, "raw Worker");
  assert.notEqual(baselineFill, fillOf(svg, "ThreadPoolExecutor"));
  assert.notEqual(baselineFill, fillOf(svg, "piscina 5.3"));
  // The 1× grid line stands where the baseline bar ends.
  const oneX = floor.x! + floor.width!;
  const lines = [
    ...svg.matchAll(/<line x1="([\d.]+)" y1="[\d.]+" x2="([\d.]+)"/g),
  ]
    .filter(([, x1, x2]) => x1 === x2 && Math.abs(Number(x1) - oneX) <= 0.2);
  assert.equal(lines.length, 1);
  assert.match(svg, />1×<\/text>/);
});

Deno.test("renderChart() colours this library's executors apart from peers", () => {
  const svg = renderChart(sample);
  const project = fillOf(svg, "ThreadPoolExecutor");
  assert.equal(fillOf(svg, "ProcessPoolExecutor \\(deno children\\)"), project);
  assert.equal(fillOf(svg, "@concurrent/futures map"), project);
  const peer = fillOf(svg, "piscina 5.3");
  assert.notEqual(peer, project);
  assert.equal(fillOf(svg, "bullmq"), peer);
  assert.match(svg, />@concurrent\/futures<\/text>/);
  assert.match(svg, />peers<\/text>/);
});

Deno.test("renderChart() escapes < & and quotes in names, groups and the command", () => {
  const svg = renderChart(
    report(
      bench("raw <Worker> & co", ok(1e6), {
        baseline: true,
        group: "a < b & c",
      }),
      bench(`pool "quoted" 'single'`, ok(2e6), { group: "a < b & c" }),
    ),
    { command: "deno bench > out.json && echo <done>" },
  );
  assertWellFormed(svg);
  assert.ok(!svg.includes("raw <Worker>"));
  assert.ok(svg.includes("raw &#60;Worker&#62; &#38; co"));
  assert.ok(svg.includes("a &#60; b &#38; c"));
  assert.ok(svg.includes("pool &#34;quoted&#34; &#39;single&#39;"));
  assert.ok(
    svg.includes("deno bench &#62; out.json &#38;&#38; echo &#60;done&#62;"),
  );
});

Deno.test("renderChart() shows 'failed' instead of a bar for a failed bench", () => {
  const svg = renderChart(report(
    bench("raw Worker", ok(1e6), { baseline: true }),
    bench("tinypool", failed),
  ));
  assertWellFormed(svg);
  const row = rows(svg).get("tinypool")!;
  assert.equal(row.width, undefined);
  assert.equal(row.text, "tinypoolfailed");
  // The error message goes to the tooltip, escaped.
  assert.ok(svg.includes("tinypool: failed: boom &#60;x&#62; &#38; more"));
});

Deno.test("renderChart() measures a group without baseline against its fastest bench and says so", () => {
  const svg = renderChart(report(
    bench("slow", ok(6e6), { group: "no floor here" }),
    bench("fast", ok(2e6), { group: "no floor here" }),
  ));
  assert.match(
    svg,
    /no floor here<tspan[^>]*>— no baseline: ratios against the fastest<\/tspan>/,
  );
  const drawn = rows(svg);
  assert.match(drawn.get("fast")!.text, /1\.00× · 2\.00 ms · fastest/);
  assert.match(drawn.get("slow")!.text, /3\.00× · 6\.00 ms$/);
  assert.ok(
    Math.abs(drawn.get("slow")!.width! - 3 * drawn.get("fast")!.width!) <= 0.2,
  );
});

Deno.test("renderChart() falls back to the fastest bench when the baseline failed", () => {
  const svg = renderChart(report(
    bench("raw Worker", failed, { baseline: true }),
    bench("ThreadPoolExecutor", ok(4e6)),
    bench("piscina", ok(8e6)),
  ));
  assert.match(svg, /— baseline failed: ratios against the fastest/);
  const drawn = rows(svg);
  assert.equal(drawn.get("raw Worker")!.text, "raw Workerfailed");
  assert.match(drawn.get("piscina")!.text, /2\.00× · 8\.00 ms/);
});

Deno.test("renderChart() titles an ungrouped block by its file and keeps same-named groups apart", () => {
  const other = "file:///repo/bench/process_bench.ts";
  const svg = renderChart(report(
    bench("alone", ok(1e3), { group: null }),
    bench("a", ok(1e3), { baseline: true, group: "round trip" }),
    bench("b", ok(1e3), { baseline: true, group: "round trip", origin: other }),
  ));
  assert.match(svg, />latency_bench\.ts<tspan/);
  assert.match(svg, />round trip \(latency_bench\.ts\)</);
  assert.match(svg, />round trip \(process_bench\.ts\)</);
});

Deno.test("renderChart() truncates a long name with an ellipsis and keeps it whole in the tooltip", () => {
  const long = "ThreadPoolExecutor with a very long descriptive bench name";
  const svg = renderChart(
    report(
      bench("raw Worker", ok(1e6), { baseline: true }),
      bench(long, ok(1e6)),
    ),
    { maxNameLength: 20 },
  );
  const label = rows(svg).get(long)!.text;
  assert.ok(label.startsWith("ThreadPoolExecutor…"), label);
  assert.match(svg, new RegExp(`<title>${long}: avg 1\\.00 ms`));
});

Deno.test("renderChart() caps a bar far above 1× but prints the real ratio", () => {
  const svg = renderChart(
    report(
      bench("raw Worker", ok(1e6), { baseline: true }),
      bench("workerpool", ok(37e6)),
      bench("ThreadPoolExecutor", ok(2e6)),
    ),
    { maxRatio: 4 },
  );
  const drawn = rows(svg);
  const floor = drawn.get("raw Worker")!.width!;
  const capped = drawn.get("workerpool")!;
  assert.ok(Math.abs(capped.width! - 4 * floor) <= 0.2, `${capped.width}`);
  assert.match(capped.text, /37\.0× · 37\.0 ms/);
  // The break mark: two white slashes over the capped bar only.
  assert.equal(svg.match(/stroke="#ffffff" stroke-width="2"/g)?.length, 2);
});

Deno.test("renderChart() prints times in an adaptive unit", () => {
  const drawn = rows(renderChart(report(
    bench("floor", ok(12), { baseline: true }),
    bench("a", ok(999.8)),
    bench("b", ok(61_500)),
    bench("c", ok(61.5e6)),
    bench("d", ok(1.5e9)),
  )));
  assert.match(drawn.get("floor")!.text, /· 12\.0 ns/);
  assert.match(drawn.get("a")!.text, /83\.3× · 1\.00 µs/);
  assert.match(drawn.get("b")!.text, /5125× · 61\.5 µs/);
  assert.match(drawn.get("c")!.text, /· 61\.5 ms/);
  assert.match(drawn.get("d")!.text, /· 1\.50 s/);
});

Deno.test("renderChart() uses the median when the report has one", () => {
  const svg = renderChart(report(
    bench("raw Worker", ok(2e6, { p50: 1e6 }), { baseline: true }),
    bench("ThreadPoolExecutor", ok(9e6, { p50: 3e6 })),
  ));
  assert.match(rows(svg).get("ThreadPoolExecutor")!.text, /3\.00× · 3\.00 ms/);
  assert.match(svg, /bar: median time per iteration/);
  assert.match(renderChart(sample), /bar: mean \(avg\) time per iteration/);
});

Deno.test("renderChart() footer holds the date, Deno version and command, and nothing else varies", () => {
  const options = { date: "2026-01-02", command: "deno bench --json bench/" };
  const svg = renderChart(sample, options);
  assert.equal(renderChart(sample, options), svg);
  assert.match(
    svg,
    /2026-01-02 · Deno 2\.9\.6 x86_64-unknown-linux-gnu · Test CPU/,
  );
  assert.match(svg, />\$ deno bench --json bench\/<\/text>/);
  const bare = renderChart(sample);
  assert.doesNotMatch(bare, /\d{4}-\d\d-\d\d/);
  assert.doesNotMatch(bare, /\$ /);
});

Deno.test("renderChart() draws an empty report as a note", () => {
  const svg = renderChart(report());
  assertWellFormed(svg);
  assert.match(svg, /No benches in the report\./);
});

Deno.test("renderChart() rejects a report without benches and options out of range", () => {
  assert.throws(
    () => renderChart({} as BenchReport),
    new TypeError(
      "Cannot render chart as 'report.benches' must be an array: current value is undefined",
    ),
  );
  assert.throws(
    () => renderChart(sample, { width: 100 }),
    new RangeError(
      "Cannot render chart as 'width' must be >= 600: current value is 100",
    ),
  );
  assert.throws(
    () => renderChart(sample, { maxRatio: 1 }),
    new RangeError(
      "Cannot render chart as 'maxRatio' must be >= 1.5: current value is 1",
    ),
  );
  assert.throws(
    () => renderChart(sample, { maxNameLength: Number.NaN }),
    new RangeError(
      "Cannot render chart as 'maxNameLength' must be >= 4: current value is NaN",
    ),
  );
});

Deno.test("renderChart() leaves out a bench named in parentheses, such as a teardown", () => {
  const svg = renderChart(
    report(
      bench("raw Worker", ok(2e6), { baseline: true }),
      bench("ThreadPoolExecutor", ok(3e6)),
      bench("(teardown)", ok(1e3), { group: "teardown" }),
    ),
    { date: "2026-01-02", command: "x" },
  );
  assertWellFormed(svg);
  assert.ok(svg.includes("ThreadPoolExecutor"));
  assert.ok(!svg.includes("teardown"), "no teardown block");
});
