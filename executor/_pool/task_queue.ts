// Tasks waiting for a worker, oldest first: a flat array read from a moving
// head, so taking the front is O(1). A million queued tasks must cost
// little, so the common task (one argument, no options, no listener) waits
// as its parts alone, three slots: its future, function and argument. Its
// submit time is a number in a slot of its own before it, written only
// when it differs from the last one written (the tasks of one turn share
// their clock reading). It becomes a WorkItem (~90 bytes more) only when it
// reaches the front. Any other task waits as its WorkItem, in the first of
// three slots.
import type { Future } from "../../future/future.ts";
import type { FunctionSpec } from "../_wire/protocol.ts";
import type { WorkItem } from "./work_item.ts";

/** Makes the WorkItem of a task that waited as its parts. */
export type MakeItem = (
  future: Future<unknown>,
  fn: FunctionSpec,
  arg: unknown,
  time: number,
) => WorkItem;

// Slots a task takes; a WorkItem leaves the second empty.
const SIZE = 3;
// Taken slots at the front are cut off once there are this many and they
// are at least half the array (a queue that never empties stays bounded).
const TRIM = 4096;

/** The pool's queue of waiting tasks. */
export class TaskQueue {
  readonly #make: MakeItem;
  // From #head on: waiting tasks and submit times; before it, taken slots
  // set to undefined.
  #items: unknown[] = [];
  #head = 0;
  #size = 0;
  // The submit time of the tasks that wait as parts from #head on, until
  // the next time in the array; the last time written, at its end.
  #headTime = 0;
  #tailTime: number | undefined;

  /** @param make Makes the WorkItem of a task that waited as its parts. */
  constructor(make: MakeItem) {
    this.#make = make;
  }

  /** How many slots its array holds (a test's view of its memory). */
  get slots(): number {
    return this.#items.length;
  }

  /** How many wait. */
  get size(): number {
    return this.#size;
  }

  /** The oldest, left in place (made a WorkItem now if it is not one). */
  peek(): WorkItem | undefined {
    if (this.#size === 0) return undefined;
    const items = this.#items;
    let head = this.#head;
    while (typeof items[head] === "number") {
      this.#headTime = items[head] as number;
      items[head++] = undefined;
    }
    this.#head = head;
    const fn = items[head + 1];
    if (fn === undefined) return items[head] as WorkItem;
    const item = this.#make(
      items[head] as Future<unknown>,
      fn as FunctionSpec,
      items[head + 2],
      this.#headTime,
    );
    items[head] = item;
    items[head + 1] = items[head + 2] = undefined;
    return item;
  }

  /** Takes the oldest. */
  shift(): WorkItem | undefined {
    const item = this.peek();
    if (item === undefined) return undefined;
    this.#items[this.#head] = undefined;
    this.#head += SIZE;
    this.#size--;
    const length = this.#items.length;
    if (this.#size === 0) {
      // Nothing waits: only times could be left, and none is needed.
      this.#items = [];
      this.#head = 0;
      this.#tailTime = undefined;
    } else if (this.#head >= TRIM && this.#head * 2 >= length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** Queues a task of one argument and no options last, as its parts. */
  add(
    future: Future<unknown>,
    fn: FunctionSpec,
    arg: unknown,
    time: number,
  ): void {
    if (time !== this.#tailTime) {
      this.#tailTime = time;
      this.#items.push(time);
    }
    this.#items.push(future, fn, arg);
    this.#size++;
  }

  /** Queues a task last. */
  push(item: WorkItem): void {
    this.#items.push(item, undefined, undefined);
    this.#size++;
  }

  /** Puts tasks back first, in order: their worker died before they ran. */
  requeue(items: WorkItem[]): void {
    this.#items.splice(
      this.#head,
      0,
      ...items.flatMap((item) => [item, undefined, undefined]),
    );
    this.#size += items.length;
  }

  /** Takes every waiting task out. */
  drain(): WorkItem[] {
    const taken: WorkItem[] = [];
    for (let item = this.shift(); item !== undefined; item = this.shift()) {
      taken.push(item);
    }
    return taken;
  }

  /** The waiting tasks' futures, oldest first. */
  *futures(): IterableIterator<Future<unknown>> {
    const items = this.#items;
    for (let i = this.#head; i < items.length;) {
      const first = items[i];
      if (typeof first === "number") {
        i++; // a submit time
        continue;
      }
      yield items[i + 1] === undefined
        ? (first as WorkItem).future
        : first as Future<unknown>;
      i += SIZE;
    }
  }
}
