// Runs on the main thread: `/metrics`, the Prometheus text exposition
// format (version 0.0.4) of a source's figures: one HELP and TYPE line per
// family, then its samples, one per series (the executor's, or a Redis
// node's, labelled).
import type { ExecutorStats } from "../executor/stats.ts";
import type { MetricSeries } from "./source.ts";

/** The Content-Type of the exposition format. */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

const PREFIX = "concurrent_futures_";

// The counters and gauges read from stats(), in the order they are shown.
const FAMILIES: {
  name: string;
  type: "counter" | "gauge";
  help: string;
  samples: (stats: ExecutorStats) => [Record<string, string>, number][];
}[] = [
  {
    name: "tasks_total",
    type: "counter",
    help: "Tasks settled, by outcome (stats().completed, failed, cancelled).",
    samples: (s) => [
      [{ outcome: "completed" }, s.completed],
      [{ outcome: "failed" }, s.failed],
      [{ outcome: "cancelled" }, s.cancelled],
    ],
  },
  {
    name: "task_retries_total",
    type: "counter",
    help: "Times a task ran again after it failed (stats().retried).",
    samples: (s) => [[{}, s.retried]],
  },
  {
    name: "tasks_queued",
    type: "gauge",
    help: "Tasks waiting for a worker (stats().queued).",
    samples: (s) => [[{}, s.queued]],
  },
  {
    name: "tasks_running",
    type: "gauge",
    help: "Tasks started and not settled (stats().running).",
    samples: (s) => [[{}, s.running]],
  },
  {
    name: "workers",
    type: "gauge",
    help: "Workers alive (stats().workers).",
    samples: (s) => [[{}, s.workers]],
  },
  {
    name: "workers_busy",
    type: "gauge",
    help: "Workers running a task (stats().busy).",
    samples: (s) => [[{}, s.busy]],
  },
  {
    name: "utilization",
    type: "gauge",
    help:
      "Busy worker-time over maxWorkers times the executor's age, 0 to 1 (stats().utilization).",
    samples: (s) => [[{}, s.utilization]],
  },
];

/** The exposition of `series`, one family after another. */
export function formatMetrics(series: readonly MetricSeries[]): string {
  const lines: string[] = [];
  for (const family of FAMILIES) {
    const name = PREFIX + family.name;
    lines.push(
      `# HELP ${name} ${family.help}`,
      `# TYPE ${name} ${family.type}`,
    );
    for (const { labels, stats } of series) {
      for (const [own, value] of family.samples(stats)) {
        lines.push(sample(name, { ...labels, ...own }, value));
      }
    }
  }
  const name = `${PREFIX}task_run_seconds`;
  lines.push(
    `# HELP ${name} Seconds from a task's start to its settling, over completed and failed tasks (stats().runTime).`,
    `# TYPE ${name} histogram`,
  );
  for (const { labels, runSeconds } of series) {
    if (runSeconds === undefined) continue;
    runSeconds.le.forEach((le, i) => {
      lines.push(
        sample(
          `${name}_bucket`,
          { ...labels, le: formatNumber(le) },
          runSeconds.counts[i],
        ),
      );
    });
    lines.push(sample(`${name}_sum`, { ...labels }, runSeconds.sum));
    lines.push(sample(`${name}_count`, { ...labels }, runSeconds.count));
  }
  return lines.join("\n") + "\n";
}

function sample(
  name: string,
  labels: Record<string, string>,
  value: number,
): string {
  const pairs = Object.entries(labels).map(([key, text]) =>
    `${key}="${escapeLabel(text)}"`
  );
  const set = pairs.length === 0 ? "" : `{${pairs.join(",")}}`;
  return `${name}${set} ${formatNumber(value)}`;
}

// Label values escape backslash, double quote and newline.
function escapeLabel(text: string): string {
  return text.replace(/[\\"\n]/g, (c) => c === "\n" ? "\\n" : `\\${c}`);
}

// Go's float forms: +Inf, -Inf, NaN; else JavaScript's shortest form.
function formatNumber(value: number): string {
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  if (Number.isNaN(value)) return "NaN";
  return String(value);
}
