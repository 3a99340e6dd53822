// Tasks waiting for a worker, oldest first: an array read from a moving
// head, so taking the front is O(1) and a million queued tasks cost one
// slot each.
import type { WorkItem } from "./work_item.ts";

/** The pool's queue of waiting tasks. */
export class TaskQueue {
  // Waiting items from #head on; before it, taken slots set to undefined.
  #items: (WorkItem | undefined)[] = [];
  #head = 0;

  /** How many wait. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  /** The oldest, left in place. */
  peek(): WorkItem | undefined {
    return this.#items[this.#head];
  }

  /** Takes the oldest. */
  shift(): WorkItem | undefined {
    const item = this.#items[this.#head];
    if (item === undefined) return undefined;
    this.#items[this.#head++] = undefined;
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    }
    return item;
  }

  /** Queues a new task last. */
  push(item: WorkItem): void {
    this.#items.push(item);
  }

  /** Puts tasks back first, in order: their worker died before they ran. */
  requeue(items: WorkItem[]): void {
    this.#items.splice(this.#head, 0, ...items);
  }

  /** Takes every waiting task out. */
  drain(): WorkItem[] {
    const items = this.#items.slice(this.#head) as WorkItem[];
    this.#items = [];
    this.#head = 0;
    return items;
  }

  /** The waiting tasks, oldest first. */
  *[Symbol.iterator](): IterableIterator<WorkItem> {
    for (let i = this.#head; i < this.#items.length; i++) {
      yield this.#items[i]!;
    }
  }
}
