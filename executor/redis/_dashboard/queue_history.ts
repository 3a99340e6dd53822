// Where a Redis queue's dashboard runs: the queue's task events
// (<queue>:events, _wire/events.ts) folded into what the page shows, as
// they are read (from the capped stream's start, then as they come).
// Bounded whatever runs: the running tasks (dropped with their node), the
// last MAX_FINISHED finished ones within the window, the last MAX_FAILURES
// errors, a row per function (at most MAX_FUNCTIONS), counts and run-time
// histograms per node (nodes come and go, so only those live or in the
// window are kept).
import { Histogram } from "../../_base/histogram.ts";
import { END_KINDS, type TaskEvent } from "../_wire/events.ts";
import type {
  DashboardFailure,
  DashboardFunction,
  DashboardOutcome,
  DashboardTask,
} from "../../../dashboard/source.ts";
import {
  functionRow,
  MAX_FAILURES,
  MAX_FINISHED,
  WINDOW_MS,
} from "../../../dashboard/figures.ts";

/** A task seen running (a "started" or progress event, no end yet). */
interface Running {
  id: string;
  fn: string;
  node: string;
  start: number;
  progress?: unknown;
}

/** A finished task in the window; its lane is given when shown. */
interface Finished {
  id: string;
  fn: string;
  node: string;
  start: number;
  end: number;
  outcome: DashboardOutcome;
}

/** What the events say of one node. */
export interface NodeTotals {
  completed: number;
  failed: number;
  cancelled: number;
  /** Run times (ms) of its completed and failed tasks. */
  runTime: Histogram;
  /** Wait times (ms, submit to start) of the tasks it started. */
  waitTime: Histogram;
  /** Run ms of the tasks it finished, for utilization. */
  busyMs: number;
}

/** A queue's recent tasks, per function and per node, from its events. */
export class QueueHistory {
  readonly #running = new Map<string, Running>();
  // In the order read (about end order); trimmed to MAX_FINISHED and the window.
  #finished: Finished[] = [];
  // Newest last; trimmed to MAX_FAILURES.
  #failures: DashboardFailure[] = [];
  readonly #functions = new Map<string, DashboardFunction>();
  readonly #nodes = new Map<string, NodeTotals>();
  // The whole queue's: never forgotten, so its counts only grow.
  readonly #total: NodeTotals = totals();
  /** The earliest start or end an event told of (ms since the epoch). */
  since = Infinity;

  /** Folds in events read, oldest first. */
  add(events: readonly TaskEvent[]): void {
    for (const event of events) this.#add(event);
  }

  #add(event: TaskEvent): void {
    const { task: id, fn, node } = event;
    const at = event.start ?? event.end;
    if (at !== undefined && at < this.since) this.since = at;
    if (!END_KINDS.has(event.kind)) {
      let running = this.#running.get(id);
      if (running === undefined) {
        running = { id, fn, node, start: event.start ?? Date.now() };
        this.#running.set(id, running);
      }
      if (event.kind === "progress") running.progress = event.progress;
      return;
    }
    this.#running.delete(id);
    const outcome = event.kind as DashboardOutcome;
    const row = this.#function(fn);
    row[outcome as "completed" | "failed" | "cancelled"]++;
    row.total++;
    const both = [this.#total, this.#node(node)];
    for (const totals of both) {
      totals[outcome as "completed" | "failed" | "cancelled"]++;
    }
    const end = event.end ?? Date.now();
    if (event.start !== undefined) {
      const ms = Math.max(0, end - event.start);
      const wait = event.submitted === undefined
        ? undefined
        : Math.max(0, event.start - event.submitted);
      for (const totals of both) {
        if (outcome !== "cancelled") {
          totals.runTime.add(ms);
          totals.busyMs += ms;
        }
        if (wait !== undefined) totals.waitTime.add(wait);
      }
      this.#finished.push({ id, fn, node, start: event.start, end, outcome });
      if (this.#finished.length > MAX_FINISHED * 1.25) {
        this.#finished = this.#finished.slice(-MAX_FINISHED);
      }
    }
    if (outcome === "failed") {
      const error = event.error ?? { name: "Error", message: "" };
      this.#failures.push({
        id,
        fn,
        node,
        at: end,
        name: error.name,
        message: error.message,
        stack: error.stack,
      });
      if (this.#failures.length > MAX_FAILURES * 2) {
        this.#failures = this.#failures.slice(-MAX_FAILURES);
      }
    }
  }

  /**
   * The running tasks and those finished within the window, oldest first,
   * each on a lane of its node (`<node>#<n>`): the first lane free at its
   * start, so overlapping tasks of one node get lanes of their own (a node
   * does not say which of its workers ran a task).
   */
  tasks(now: number): DashboardTask[] {
    const since = now - WINDOW_MS;
    let finished = this.#finished;
    let first = Math.max(0, finished.length - MAX_FINISHED);
    while (first < finished.length && finished[first].end < since) first++;
    if (first > 0) this.#finished = finished = finished.slice(first);
    const tasks: DashboardTask[] = [
      ...finished.map(({ id, fn, node, start, end, outcome }) => ({
        id,
        fn,
        node,
        worker: "",
        start,
        end,
        outcome,
      })),
      ...[...this.#running.values()].map((
        { id, fn, node, start, progress },
      ) => ({
        id,
        fn,
        node,
        worker: "",
        start,
        outcome: "running" as const,
        progress,
      })),
    ].sort((a, b) => a.start - b.start);
    // Per node, the end of each lane's last task.
    const lanes = new Map<string, number[]>();
    for (const task of tasks) {
      const node = task.node!;
      let ends = lanes.get(node);
      if (ends === undefined) lanes.set(node, ends = []);
      let lane = ends.findIndex((end) => end <= task.start);
      if (lane < 0) lane = ends.push(0) - 1;
      ends[lane] = task.end ?? Infinity;
      task.worker = `${node}#${lane + 1}`;
    }
    return tasks;
  }

  /** The latest failures, newest first. */
  failures(): DashboardFailure[] {
    return this.#failures.slice(-MAX_FAILURES).reverse();
  }

  /** One row per function, in the order first seen, running counted. */
  functions(): DashboardFunction[] {
    for (const task of this.#running.values()) this.#function(task.fn);
    const rows = new Map<string, DashboardFunction>();
    for (const [name, row] of this.#functions) rows.set(name, { ...row });
    for (const task of this.#running.values()) {
      const row = rows.get(this.#function(task.fn).name)!;
      row.running++;
      row.total++;
    }
    return [...rows.values()];
  }

  /** Tasks running now, per node. */
  runningOn(node: string): number {
    let count = 0;
    for (const task of this.#running.values()) if (task.node === node) count++;
    return count;
  }

  /** What the events said of each node, by id. */
  get nodes(): ReadonlyMap<string, NodeTotals> {
    return this.#nodes;
  }

  /** What the events said of the whole queue. */
  get total(): NodeTotals {
    return this.#total;
  }

  /** Tasks running now, as the events say. */
  get running(): number {
    return this.#running.size;
  }

  /**
   * Forgets the running tasks of nodes not in `live` (a node that died
   * under them never says how they ended) and the totals of nodes neither
   * live nor in the window, so nodes that come and go leave nothing.
   */
  forgetNodesBut(live: ReadonlySet<string>): void {
    for (const [id, task] of this.#running) {
      if (!live.has(task.node)) this.#running.delete(id);
    }
    const keep = new Set(live);
    for (const task of this.#finished) keep.add(task.node);
    for (const node of this.#nodes.keys()) {
      if (!keep.has(node)) this.#nodes.delete(node);
    }
  }

  #function(name: string): DashboardFunction {
    return functionRow(this.#functions, name);
  }

  #node(id: string): NodeTotals {
    let node = this.#nodes.get(id);
    if (node === undefined) this.#nodes.set(id, node = totals());
    return node;
  }
}

function totals(): NodeTotals {
  return {
    completed: 0,
    failed: 0,
    cancelled: 0,
    runTime: new Histogram(),
    waitTime: new Histogram(),
    busyMs: 0,
  };
}
