// Runs on the main thread, for every executor: the `labels` of `run` and
// `map` (SPEC "Labels"). They route a task across Redis nodes: only a
// RedisExecutor takes them; a local pool says why it does not.
import { describe } from "../../future/_util.ts";

/** The routing options of `run` and `map`. */
export interface LabelOptions {
  /**
   * RedisExecutor only: the task runs only on a node whose labels include
   * every one of these (`RedisNode({ labels })`, `--label`). A task no live
   * node can take fails after `unroutableTimeout`. A label is 1–64
   * characters of `A-Z a-z 0-9 _ . : -`. A local pool throws `TypeError`.
   *
   * @default {[] (any node)}
   */
  labels?: readonly string[];
}

const LABEL = /^[A-Za-z0-9_.:-]{1,64}$/;

/**
 * Checks labels: each 1–64 characters of `[A-Za-z0-9_.:-]`.
 *
 * @param action What is being done, as messages start ("submit", "map",
 * "create RedisNode").
 * @returns them sorted, without repeats.
 * @throws {TypeError} For a value that is not an array of such labels,
 * naming the one that is wrong.
 */
export function checkLabelList(labels: unknown, action: string): string[] {
  if (!Array.isArray(labels)) {
    throw new TypeError(
      `Cannot ${action} as 'labels' must be an array of strings: current value is ${
        describe(labels)
      }`,
    );
  }
  for (const label of labels) {
    if (typeof label !== "string" || !LABEL.test(label)) {
      throw new TypeError(
        `Cannot ${action} as the label ${
          describe(label)
        } is not 1-64 characters of A-Z a-z 0-9 _ . : -`,
      );
    }
  }
  return [...new Set(labels as string[])].sort();
}

/**
 * Checks a task's `labels` for an executor: none for a local pool.
 *
 * @param owner The executor's class name.
 * @param routes Whether it routes by label (a RedisExecutor).
 * @returns them sorted and without repeats; `[]` for none.
 * @throws {TypeError} For labels given to a local pool, or bad labels.
 */
export function checkLabels(
  labels: unknown,
  owner: string,
  routes: boolean,
  action: string,
): string[] {
  if (labels === undefined) return [];
  if (!routes) {
    throw new TypeError(
      `Cannot ${action} with 'labels' on ${owner}: labels route tasks across Redis nodes (RedisExecutor and RedisNode); a local pool runs every task on its own workers`,
    );
  }
  return checkLabelList(labels, action);
}
