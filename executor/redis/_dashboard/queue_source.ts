// Where a Redis queue's dashboard runs (serveDashboard(redisExecutor), or
// the program dashboard_main.ts): the dashboard's source for a whole queue,
// read from Redis alone, so it sees every submitter's tasks and keeps
// nothing of its own (a restarted dashboard shows the same past):
//
//   <queue>:events ── XREAD from its start, then what is new ──> QueueHistory
//   <queue>:nodes (+:data) ── the live nodes' announcements ───> Workers rows
//   <queue>, <queue>:labels:* ── XLEN ──────────────────────────> queued
//
// Read at each request (one read in flight at a time) and once a second
// for the Rates panel, whose samples start with the dashboard.
import { connect } from "../_engine/connect.ts";
import type { Engine } from "../_engine/engine.ts";
import { decodeEvents } from "../_wire/events.ts";
import {
  eventStream,
  FIELD,
  labelSetsKey,
  labelsOf,
  taskStream,
} from "../_wire/streams.ts";
import { type LiveNode, LiveNodes } from "../_executor/live_nodes.ts";
import { utilization } from "../../_base/utilization.ts";
import type { ExecutorStats } from "../../stats.ts";
import type {
  DashboardRate,
  DashboardSnapshot,
  DashboardSource,
  DashboardTask,
  MetricSeries,
} from "../../../dashboard/source.ts";
import {
  RUN_TIME_BOUNDS_MS,
  SAMPLE_MS,
  WINDOW_MS,
} from "../../../dashboard/figures.ts";
import { type NodeTotals, QueueHistory } from "./queue_history.ts";

// Event entries read per XREAD: a page of a long history at a time.
const PAGE = 1000;

/** Which queue, on which Redis. */
export interface QueueSourceOptions {
  url: string;
  queue: string;
  /** ms Redis may take to answer the first connection. */
  connectTimeout: number;
}

/** A Redis queue, as its dashboard sees it. */
export class QueueSource implements DashboardSource {
  readonly #options: QueueSourceOptions;
  readonly #history = new QueueHistory();
  readonly #nodes: LiveNodes;
  // Opened at the first read; again after a failed open.
  #engine: Promise<Engine> | undefined;
  // The last event entry read ("0": none yet, read from the start).
  #lastId = "0";
  // Entries in the task streams, at the last read.
  #depth = 0;
  // Oldest first, one a second over the window.
  readonly #rates: DashboardRate[] = [];
  #reading: Promise<void> | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  constructor(options: QueueSourceOptions) {
    this.#options = options;
    this.#nodes = new LiveNodes(options.queue);
    this.#sample();
  }

  async snapshot(): Promise<DashboardSnapshot> {
    await this.#read();
    const now = Date.now();
    const tasks = this.#history.tasks(now);
    const nodes = this.#nodes.nodes;
    return {
      title: `Redis queue ${this.#options.queue}`,
      now,
      window: WINDOW_MS,
      stats: this.#stats(now, tasks),
      workers: nodes.map((node) => ({
        id: node.id,
        node: node.id,
        labels: node.labels,
        workers: node.workers,
        busy: node.busy,
        completed: node.completed,
        failed: node.failed,
      })),
      tasks,
      functions: this.#history.functions(),
      rates: [...this.#rates],
      failures: this.#history.failures(),
    };
  }

  async metrics(): Promise<MetricSeries[]> {
    await this.#read();
    const now = Date.now();
    const tasks = this.#history.tasks(now);
    const series: MetricSeries[] = [{
      stats: this.#stats(now, tasks),
      runSeconds: runSeconds(this.#history.total),
    }];
    const live = new Map(this.#nodes.nodes.map((node) => [node.id, node]));
    const ids = new Set([...live.keys(), ...this.#history.nodes.keys()]);
    for (const id of [...ids].sort()) {
      const totals = this.#history.nodes.get(id) ?? emptyTotals();
      series.push({
        labels: { node: id },
        stats: nodeStats(live.get(id), totals, tasks, id, now),
        runSeconds: runSeconds(totals),
      });
    }
    return series;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#reading;
    const engine = await this.#engine?.catch(() => undefined);
    await engine?.close();
  }

  // The whole queue's figures: nodes' workers and busy from their
  // announcements, queued from the task streams, the rest from the events.
  #stats(now: number, tasks: DashboardTask[]): ExecutorStats {
    const nodes = this.#nodes.nodes;
    let workers = 0;
    let busy = 0;
    for (const node of nodes) {
      workers += node.workers;
      busy += node.busy;
    }
    const total = this.#history.total;
    return {
      workers,
      busy: Math.min(busy, workers),
      // A task a node took is in its stream until answered: those that do
      // not run yet (read ahead) still wait.
      queued: Math.max(0, this.#depth - busy),
      running: busy,
      completed: total.completed,
      failed: total.failed,
      cancelled: total.cancelled,
      retried: 0,
      runTime: total.runTime.summary(),
      waitTime: total.waitTime.summary(),
      utilization: windowUtilization(tasks, undefined, workers, now),
    };
  }

  // Reads what is new; a read in flight is shared.
  #read(): Promise<void> {
    this.#reading ??= this.#readAll().finally(() => {
      this.#reading = undefined;
    });
    return this.#reading;
  }

  async #readAll(): Promise<void> {
    if (this.#closed) return;
    const { url, queue, connectTimeout } = this.#options;
    this.#engine ??= connect(url, {
      connectTimeout,
      name: "concurrent-futures:dashboard",
    });
    let engine: Engine;
    try {
      engine = await this.#engine;
    } catch (error) {
      this.#engine = undefined;
      throw error;
    }
    const [, , depth] = await Promise.all([
      this.#readEvents(engine),
      this.#nodes.read(engine),
      engine.members(labelSetsKey(queue)).then((sets) =>
        engine.lengths([
          taskStream(queue),
          ...sets.map((set) => taskStream(queue, labelsOf(set))),
        ])
      ),
    ]);
    this.#depth = depth.reduce((sum, n) => sum + n, 0);
    this.#history.forgetNodesBut(
      new Set(this.#nodes.nodes.map((node) => node.id)),
    );
  }

  async #readEvents(engine: Engine): Promise<void> {
    const stream = eventStream(this.#options.queue);
    for (;;) {
      const { entries, lastId } = await engine.readReplies(
        stream,
        this.#lastId,
        0,
        PAGE,
      );
      this.#lastId = lastId;
      for (const entry of entries) {
        this.#history.add(decodeEvents(entry.fields[FIELD.EVENT]));
      }
      if (entries.length < PAGE) return;
    }
  }

  // A Rates point now, then again in SAMPLE_MS, until closed.
  async #sample(): Promise<void> {
    try {
      await this.#read();
      const now = Date.now();
      const stats = this.#stats(now, []);
      const rates = this.#rates;
      rates.push({
        at: now,
        completed: stats.completed,
        failed: stats.failed,
        queued: stats.queued,
        running: stats.running,
      });
      if (rates.length > WINDOW_MS / SAMPLE_MS) rates.shift();
    } catch {
      // Redis unreachable: no point this second; the page says why.
    }
    if (!this.#closed) {
      this.#timer = setTimeout(() => this.#sample(), SAMPLE_MS);
    }
  }
}

// One node's figures for /metrics: its announcement and its events.
function nodeStats(
  node: LiveNode | undefined,
  totals: NodeTotals,
  tasks: DashboardTask[],
  id: string,
  now: number,
): ExecutorStats {
  const workers = node?.workers ?? 0;
  const busy = node?.busy ?? 0;
  return {
    workers,
    busy: Math.min(busy, workers),
    queued: 0,
    running: busy,
    completed: totals.completed,
    failed: totals.failed,
    cancelled: totals.cancelled,
    retried: 0,
    runTime: totals.runTime.summary(),
    waitTime: totals.waitTime.summary(),
    utilization: windowUtilization(tasks, id, workers, now),
  };
}

// Busy worker-time within the window over the workers' time in it (one
// node's, or, for `node` undefined, the queue's).
function windowUtilization(
  tasks: DashboardTask[],
  node: string | undefined,
  workers: number,
  now: number,
): number {
  const from = now - WINDOW_MS;
  let busyMs = 0;
  let first = now;
  for (const task of tasks) {
    if (node !== undefined && task.node !== node) continue;
    const start = Math.max(from, task.start);
    busyMs += Math.max(0, (task.end ?? now) - start);
    first = Math.min(first, start);
  }
  return utilization(busyMs, workers * (now - first));
}

function runSeconds(totals: NodeTotals): MetricSeries["runSeconds"] {
  const { runTime } = totals;
  return {
    le: RUN_TIME_BOUNDS_MS.map((ms) => ms / 1000),
    counts: runTime.countUpTo(RUN_TIME_BOUNDS_MS),
    sum: runTime.sum / 1000,
    count: runTime.count,
  };
}

function emptyTotals(): NodeTotals {
  return new QueueHistory().total;
}
