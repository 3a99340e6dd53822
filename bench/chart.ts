// Draws `deno bench --json` output as an SVG bar chart for the README:
//
//   deno run -A bench/chart.ts [input.json] [output.svg] [command]
//
// One block per bench group, one bar per bench, bar length = time relative to
// the group's baseline. Zero dependencies, and the same input always gives
// the same bytes: the only date is the one passed in.

/** Timings of one bench, in nanoseconds, as `deno bench --json` prints them. */
export interface BenchStats {
  /** Iterations measured. */
  n: number;
  /** Fastest iteration. */
  min: number;
  /** Slowest iteration. */
  max: number;
  /** Mean iteration. */
  avg: number;
  /** Median; Deno 2.9.6 does not print it, so the chart falls back to `avg`. */
  p50?: number;
  /** 75th percentile. */
  p75?: number;
  /** 99th percentile. */
  p99?: number;
}

/**
 * One entry of `results`: `ok` when the bench ran, `failed` (a serialized
 * JS error) when it threw.
 */
export interface BenchResult {
  /** Timings, present when the bench ran. */
  ok?: BenchStats;
  /** The error, present when the bench threw. */
  failed?: { name?: string; message?: string };
}

/** One bench of the report. */
export interface BenchRecord {
  /** URL of the bench file. */
  origin: string;
  /** `group` of `Deno.bench`, `null` for an ungrouped bench. */
  group: string | null;
  /** `name` of `Deno.bench`. */
  name: string;
  /** Whether the bench is its group's `baseline`. */
  baseline: boolean;
  /** One result; its `ok` holds the timings. */
  results: BenchResult[];
}

/** The whole of what `deno bench --json` prints. */
export interface BenchReport {
  /** Format version, 1 in Deno 2.9.6. */
  version?: number;
  /** For example `Deno/2.9.6 x86_64-unknown-linux-gnu`. */
  runtime?: string;
  /** CPU model. */
  cpu?: string;
  /** Every bench that was not ignored, in run order. */
  benches: BenchRecord[];
}

/** Options of {@linkcode renderChart}. */
export interface ChartOptions {
  /**
   * Heading of the chart.
   *
   * @default {"@concurrent/futures benchmarks"}
   */
  title?: string;
  /** Date of the run, printed as given in the footer; left out if absent. */
  date?: string;
  /** Command that produced the report, printed in the footer if given. */
  command?: string;
  /**
   * Width of the SVG in px; GitHub's README column is about 880.
   *
   * @default {880}
   */
  width?: number;
  /**
   * Longest ratio drawn; a longer bar is cut with a break mark.
   *
   * @default {5}
   */
  maxRatio?: number;
  /**
   * Longest bench name shown, in characters, before an ellipsis.
   *
   * @default {26}
   */
  maxNameLength?: number;
}

/** The command `deno task chart` runs to produce `bench/results.json`. */
export const DEFAULT_COMMAND = "deno bench --allow-all --json bench/";

const COLORS = {
  project: "#2563eb",
  peer: "#a8a29e",
  baseline: "#1e293b",
  text: "#111827",
  muted: "#6b7280",
  grid: "#e5e7eb",
  failed: "#b91c1c",
} as const;

// Layout in px. The label column fits maxNameLength characters at 13 px; the
// value column fits "123× · 1.23 ms · fastest".
const PAD = 20;
const LABEL_WIDTH = 220;
const VALUE_WIDTH = 160;
const ROW = 26;
const BAR = 16;
const FONT = 'font-family="system-ui, sans-serif"';

type Kind = "project" | "peer" | "baseline";

interface Row {
  bench: BenchRecord;
  /** The median, or the mean when the median is missing; undefined if failed. */
  time?: number;
  ratio?: number;
  kind: Kind;
  reference: boolean;
}

interface Block {
  title: string;
  note?: string;
  rows: Row[];
}

/**
 * Renders `deno bench --json` output as an SVG bar chart: a block per bench
 * group, a bar per bench whose length is its time over the group's baseline
 * (1.0×, marked "floor"; shorter is faster). A group without a working
 * baseline is measured against its fastest bench and says so. Bars of this
 * library are blue, peers grey; a bench named in parentheses, such as
 * "(teardown)", is left out. The output depends only on its arguments.
 *
 * @param report The parsed JSON that `deno bench --json` prints.
 * @param options Title, footer date and command, and sizes.
 * @returns The SVG document as text.
 * @throws {TypeError} If `report.benches` is not an array.
 * @throws {RangeError} If `width`, `maxRatio` or `maxNameLength` is out of range.
 *
 * @example Chart one group
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderChart } from "./chart.ts";
 *
 * const stats = (avg: number) => ({ n: 10, min: avg, max: avg, avg });
 * const svg = renderChart({
 *   benches: [
 *     { origin: "file:///a_bench.ts", group: "latency", name: "raw Worker", baseline: true, results: [{ ok: stats(2e6) }] },
 *     { origin: "file:///a_bench.ts", group: "latency", name: "ThreadPoolExecutor", baseline: false, results: [{ ok: stats(3e6) }] },
 *   ],
 * }, { date: "2026-01-01", command: "deno bench --json" });
 * assert.ok(svg.startsWith("<svg"));
 * assert.ok(svg.includes("1.50× · 3.00 ms"));
 * ```
 */
export function renderChart(
  report: BenchReport,
  options: ChartOptions = {},
): string {
  const {
    title = "@concurrent/futures benchmarks",
    date,
    command,
    width = 880,
    maxRatio = 5,
    maxNameLength = 26,
  } = options;
  if (!Array.isArray(report?.benches)) {
    throw new TypeError(
      `Cannot render chart as 'report.benches' must be an array: current value is ${typeof report
        ?.benches}`,
    );
  }
  check("width", width, 600);
  check("maxRatio", maxRatio, 1.5);
  check("maxNameLength", maxNameLength, 4);

  // A bench named in parentheses is housekeeping (a "(teardown)" that ends
  // a file's workers), not a measurement: it is not drawn.
  const blocks = toBlocks(
    report.benches.filter((bench) => !/^\(.*\)$/.test(bench.name)),
  );
  const barX = PAD + LABEL_WIDTH + 8;
  const barWidth = width - barX - VALUE_WIDTH - PAD;
  const out: string[] = [];
  let y = PAD + 18;

  out.push(
    text(PAD, y, title, { size: 18, weight: "bold" }),
  );
  y += 24;
  legend(out, y);
  y += 8;

  if (blocks.length === 0) {
    y += 20;
    out.push(
      text(PAD, y, "No benches in the report.", { color: COLORS.muted }),
    );
  }
  for (const block of blocks) {
    y += 22;
    const note = block.note === undefined
      ? ""
      : `<tspan font-size="12" font-weight="normal" font-style="italic" fill="${COLORS.muted}" dx="8">— ${
        escape(block.note)
      }</tspan>`;
    out.push(
      text(PAD, y, block.title, {
        size: 14,
        weight: "bold",
        max: note === "" ? 90 : 50,
      })
        .replace("</text>", `${note}</text>`),
    );
    const scale = scaleMax(block.rows, maxRatio);
    const x = (ratio: number) => barX + ratio / scale * barWidth;
    y += 8;
    const top = y;
    const bottom = y + 14 + block.rows.length * ROW;
    // Grid: a faint line at each tick, a strong one at 1×.
    for (const tick of ticks(scale)) {
      const tx = round(x(tick));
      out.push(
        line(
          tx,
          top + 12,
          tx,
          bottom,
          tick === 1 ? COLORS.baseline : COLORS.grid,
          tick === 1 ? 1.5 : 1,
        ),
        text(tx, top + 9, `${tick}×`, {
          size: 10,
          color: tick === 1 ? COLORS.text : COLORS.muted,
          anchor: "middle",
        }),
      );
    }
    y += 14;
    for (const row of block.rows) {
      out.push(bar(row, y, barX, x, scale, maxNameLength));
      y += ROW;
    }
  }

  y += 28;
  const facts = [
    date,
    report.runtime?.replace(/^Deno\/(\S+)\s*/, "Deno $1 ").trim(),
    report.cpu,
    `bar: ${statistic(report.benches)} time per iteration`,
  ].filter((fact): fact is string => fact !== undefined && fact !== "");
  out.push(
    text(PAD, y, facts.join(" · "), {
      size: 11,
      color: COLORS.muted,
      max: 140,
    }),
  );
  if (command !== undefined) {
    y += 16;
    out.push(
      text(PAD, y, `$ ${command}`, {
        size: 11,
        color: COLORS.muted,
        max: 140,
        mono: true,
      }),
    );
  }
  const height = y + PAD;

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} role="img" aria-label="${
      escape(title)
    }">`,
    `<title>${escape(title)}</title>`,
    // GitHub's dark theme would show dark text on dark: paint a background.
    `<rect width="${width}" height="${height}" rx="8" fill="#ffffff"/>`,
    ...out,
    "</svg>",
    "",
  ].join("\n");
}

function check(name: string, value: number, min: number): void {
  if (!(Number.isFinite(value) && value >= min)) {
    throw new RangeError(
      `Cannot render chart as '${name}' must be >= ${min}: current value is ${value}`,
    );
  }
}

/** Groups benches by file and group, in first-seen order, with their ratios. */
function toBlocks(benches: BenchRecord[]): Block[] {
  const groups = new Map<string, BenchRecord[]>();
  for (const bench of benches) {
    const key = `${bench.origin}\0${bench.group ?? ""}`;
    const list = groups.get(key) ?? [];
    if (list.length === 0) groups.set(key, list);
    list.push(bench);
  }
  const titles = [...groups.values()].map(([first]) =>
    first.group ?? fileName(first.origin)
  );
  return [...groups.values()].map((list, index) => {
    const title =
      titles.indexOf(titles[index]) === titles.lastIndexOf(titles[index])
        ? titles[index]
        : `${titles[index]} (${fileName(list[0].origin)})`;
    const times = list.map((bench) => time(bench));
    const declared = list.findIndex((bench) => bench.baseline);
    let reference = declared;
    let note: string | undefined;
    if (declared === -1 || times[declared] === undefined) {
      const ran = times.filter((t): t is number => t !== undefined);
      reference = ran.length === 0 ? -1 : times.indexOf(Math.min(...ran));
      note = `${declared === -1 ? "no baseline" : "baseline failed"}${
        reference === -1 ? "" : ": ratios against the fastest"
      }`;
    }
    const base = reference === -1 ? undefined : times[reference];
    const rows = list.map((bench, i): Row => ({
      bench,
      time: times[i],
      ratio: times[i] === undefined || base === undefined || !(base > 0)
        ? undefined
        : times[i]! / base,
      kind: bench.baseline
        ? "baseline"
        : isProject(bench.name)
        ? "project"
        : "peer",
      reference: i === reference,
    }));
    return { title, note, rows };
  });
}

function time(bench: BenchRecord): number | undefined {
  const ok = bench.results?.[0]?.ok;
  const value = ok?.p50 ?? ok?.avg;
  return typeof value === "number" && Number.isFinite(value)
    ? value
    : undefined;
}

function statistic(benches: BenchRecord[]): string {
  const ran = benches.map((bench) => bench.results?.[0]?.ok).filter((ok) =>
    ok !== undefined
  );
  const medians = ran.filter((ok) => typeof ok.p50 === "number").length;
  if (medians === 0) return "mean (avg)";
  return medians === ran.length ? "median" : "median (else mean)";
}

function isProject(name: string): boolean {
  return name.startsWith("ThreadPoolExecutor") ||
    name.startsWith("ProcessPoolExecutor") ||
    name.includes("@concurrent/futures");
}

function fileName(origin: string): string {
  return origin.slice(origin.lastIndexOf("/") + 1) || origin;
}

/** The ratio at the right end of the bar area: the largest bar, capped. */
function scaleMax(rows: Row[], cap: number): number {
  const largest = Math.max(1, ...rows.map((row) => row.ratio ?? 0));
  const step = largest <= 2 ? 0.5 : 1;
  return Math.max(1.5, Math.min(cap, Math.ceil(largest / step) * step));
}

function ticks(scale: number): number[] {
  const step = scale <= 2 ? 0.5 : scale <= 6 ? 1 : 2;
  const list: number[] = [];
  for (let tick = 0; tick <= scale + 1e-9; tick += step) list.push(tick);
  if (!list.includes(1)) list.push(1);
  return list;
}

function bar(
  row: Row,
  y: number,
  barX: number,
  x: (ratio: number) => number,
  scale: number,
  maxNameLength: number,
): string {
  const { bench, ratio } = row;
  const ok = bench.results?.[0]?.ok;
  const failed = bench.results?.[0]?.failed;
  const tooltip = ok === undefined
    ? `${bench.name}: failed${failed?.message ? `: ${failed.message}` : ""}`
    : `${bench.name}: avg ${formatTime(ok.avg)}, min ${
      formatTime(ok.min)
    }, max ${formatTime(ok.max)}${
      ok.p75 === undefined ? "" : `, p75 ${formatTime(ok.p75)}`
    }${ok.p99 === undefined ? "" : `, p99 ${formatTime(ok.p99)}`}, n = ${ok.n}`;
  const parts = [
    `<g class="row ${row.kind}" data-name="${escape(bench.name)}">`,
    `<title>${escape(tooltip)}</title>`,
    text(barX - 8, y + BAR - 4, bench.name, {
      size: 13,
      anchor: "end",
      max: maxNameLength,
      weight: row.kind === "peer" ? undefined : "bold",
    }),
  ];
  if (row.time === undefined) {
    parts.push(
      text(barX, y + BAR - 4, "failed", {
        size: 12,
        color: COLORS.failed,
        style: "italic",
      }),
    );
  } else if (ratio === undefined) {
    parts.push(text(barX, y + BAR - 4, formatTime(row.time), { size: 12 }));
  } else {
    const capped = ratio > scale;
    const end = x(Math.min(ratio, scale));
    const w = round(Math.max(1, end - barX));
    parts.push(
      `<rect class="bar" x="${barX}" y="${y}" width="${w}" height="${BAR}" rx="2" fill="${
        COLORS[row.kind]
      }" data-ratio="${ratio}"/>`,
    );
    if (capped) {
      // Two white slashes: the bar is cut, the printed ratio is the real one.
      const bx = round(barX + w - 14);
      for (const dx of [0, 5]) {
        parts.push(
          line(bx + dx, y + BAR + 1, bx + dx + 5, y - 1, "#ffffff", 2),
        );
      }
    }
    const label = `${formatRatio(ratio)} · ${formatTime(row.time)}${
      row.kind === "baseline" ? " · floor" : row.reference ? " · fastest" : ""
    }`;
    parts.push(text(round(barX + w + 6), y + BAR - 4, label, {
      size: 12,
      weight: row.kind === "baseline" ? "bold" : undefined,
      halo: true,
    }));
  }
  parts.push("</g>");
  return parts.join("");
}

function legend(out: string[], y: number): void {
  let x = PAD;
  const entries: [string, string][] = [
    [COLORS.project, "@concurrent/futures"],
    [COLORS.peer, "peers"],
    [COLORS.baseline, "baseline (floor, 1.0×)"],
  ];
  for (const [color, label] of entries) {
    out.push(
      `<rect x="${x}" y="${
        y - 10
      }" width="12" height="12" rx="2" fill="${color}"/>`,
      text(x + 18, y, label, { size: 12 }),
    );
    x += 18 + label.length * 6.5 + 20;
  }
  out.push(
    text(
      x,
      y,
      "bar = time relative to the group's baseline; shorter is faster",
      {
        size: 12,
        color: COLORS.muted,
      },
    ),
  );
}

interface TextStyle {
  size?: number;
  weight?: string;
  style?: string;
  color?: string;
  anchor?: "start" | "middle" | "end";
  /** Longest text in characters before an ellipsis. */
  max?: number;
  mono?: boolean;
  /** A white outline, so the text stays legible across a grid line. */
  halo?: boolean;
}

function text(
  x: number,
  y: number,
  content: string,
  style: TextStyle = {},
): string {
  const { size = 12, weight, color = COLORS.text, anchor, max, mono, halo } =
    style;
  const attrs = [
    `x="${x}"`,
    `y="${y}"`,
    `font-size="${size}"`,
    weight === undefined ? "" : `font-weight="${weight}"`,
    style.style === undefined ? "" : `font-style="${style.style}"`,
    `fill="${color}"`,
    anchor === undefined || anchor === "start" ? "" : `text-anchor="${anchor}"`,
    mono ? 'font-family="ui-monospace, monospace"' : "",
    halo ? 'stroke="#ffffff" stroke-width="3" paint-order="stroke"' : "",
  ].filter((attr) => attr !== "");
  return `<text ${attrs.join(" ")}>${escape(truncate(content, max))}</text>`;
}

function line(
  x1: number,
  y1: number,
  x2: number,
  y2: number,
  color: string,
  width: number,
): string {
  return `<line x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" stroke="${color}" stroke-width="${width}"/>`;
}

/** Cuts to `max` code points, the last one an ellipsis. */
function truncate(content: string, max?: number): string {
  const chars = [...content];
  return max === undefined || chars.length <= max
    ? content
    : chars.slice(0, max - 1).join("").trimEnd() + "…";
}

function escape(content: string): string {
  return content.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

function formatRatio(ratio: number): string {
  return `${
    ratio >= 100
      ? ratio.toFixed(0)
      : ratio >= 10
      ? ratio.toFixed(1)
      : ratio.toFixed(2)
  }×`;
}

/** Nanoseconds in the largest unit that keeps the number >= 1: "61.5 ms". */
function formatTime(ns: number): string {
  const units = ["ns", "µs", "ms", "s"];
  let value = ns;
  let unit = 0;
  while (unit < units.length - 1 && value >= 1000) {
    value /= 1000;
    unit++;
  }
  let digits = value >= 100
    ? value.toFixed(0)
    : value >= 10
    ? value.toFixed(1)
    : value.toFixed(2);
  // 999.7 ns rounds to "1000": say 1.00 µs instead.
  if (digits === "1000" && unit < units.length - 1) {
    digits = "1.00";
    unit++;
  }
  return `${digits} ${units[unit]}`;
}

if (import.meta.main) {
  const [
    input = "bench/results.json",
    output = "bench/chart.svg",
    command = DEFAULT_COMMAND,
  ] = Deno.args;
  try {
    const report: BenchReport = JSON.parse(await Deno.readTextFile(input));
    // The file's own date, not today's: the chart shows when the run was
    // made, and the same file renders to the same bytes.
    const { mtime } = await Deno.stat(input);
    const svg = renderChart(report, {
      date: mtime?.toISOString().slice(0, 10),
      command,
    });
    await Deno.writeTextFile(output, svg);
    console.log(
      `Wrote ${output} from ${report.benches.length} benches in ${input}`,
    );
  } catch (error) {
    console.error(
      `Cannot chart ${input} as 'deno bench --json' output: ${
        error instanceof Error ? error.message : error
      }`,
    );
    Deno.exit(1);
  }
}
