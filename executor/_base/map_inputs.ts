// Runs on the main thread: the inputs of one `map` call, zipped. One reader
// per iterable, read lazily (sync ones on the caller's turn, async ones as
// their values come), a call's arguments at a time, stopping at the
// shortest. Arguments are read into columns (one array per parameter): a
// chunk of ten thousand calls clones as a few arrays, not ten thousand.

/** Whether `value` is a sync iterable. */
export function isIterable(value: unknown): value is Iterable<unknown> {
  return value != null &&
    typeof (value as Iterable<unknown>)[Symbol.iterator] === "function";
}

/** Whether `value` is an async iterable. */
export function isAsyncIterable(
  value: unknown,
): value is AsyncIterable<unknown> {
  return value != null &&
    typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] ===
      "function";
}

/** The zipped readers of a map's iterables. */
export class MapInputs {
  /** Every input is sync: the map reads them on the caller's turn. */
  readonly sync: boolean;
  // Readers of the inputs; undefined once exhausted or closed.
  #readers: (Iterator<unknown> | AsyncIterator<unknown>)[] | undefined;
  readonly #onClose: () => void;

  /**
   * Starts a reader on each iterable.
   *
   * @param iterables The inputs, sync or async.
   * @param onClose Called each time the inputs are closed (exhausted, or by
   * `close()`), so that whoever waits on them looks again.
   */
  constructor(
    iterables: (Iterable<unknown> | AsyncIterable<unknown>)[],
    onClose: () => void,
  ) {
    this.#readers = iterables.map((iterable) =>
      isIterable(iterable)
        ? iterable[Symbol.iterator]()
        : iterable[Symbol.asyncIterator]()
    );
    this.sync = iterables.every(isIterable);
    this.#onClose = onClose;
  }

  /** Not exhausted and not closed: there may be more calls to read. */
  get open(): boolean {
    return this.#readers !== undefined;
  }

  /** Empty columns for a chunk of calls: one array per input. */
  columns(): unknown[][] {
    return this.#readers!.map((): unknown[] => []);
  }

  /**
   * Reads calls' arguments into `columns` on this turn, until they hold
   * `count` calls or an input is done (which closes the inputs).
   *
   * @throws What an input throws; the calls read before it stay.
   */
  readSync(columns: unknown[][], count: number): void {
    while (columns[0].length < count && this.#readSyncCall(columns));
  }

  /**
   * Reads calls' arguments into `columns` as they come, until they hold
   * `count` calls, an input is done (which closes the inputs), or the
   * inputs are closed.
   *
   * @throws What an input throws.
   */
  async read(columns: unknown[][], count: number): Promise<void> {
    while (
      columns[0].length < count && this.#readers !== undefined &&
      await this.#readCall(columns)
    );
  }

  /** Stops reading the inputs, closing the ones not exhausted. */
  close(): void {
    const readers = this.#readers;
    this.#readers = undefined;
    for (const reader of readers ?? []) {
      try {
        const done = reader.return?.();
        if (done instanceof Promise) done.catch(() => {});
      } catch {
        // An input that fails to close has nothing more to give.
      }
    }
    this.#onClose();
  }

  // Reads one call's arguments into `columns`; false once an input is done.
  #readSyncCall(columns: unknown[][]): boolean {
    const readers = this.#readers!;
    const width = readers.length;
    const first = (readers[0] as Iterator<unknown>).next();
    if (first.done) return this.#done();
    if (width === 1) {
      columns[0].push(first.value);
      return true;
    }
    const row = [first.value];
    for (let k = 1; k < width; k++) {
      const step = (readers[k] as Iterator<unknown>).next();
      if (step.done) return this.#done();
      row.push(step.value);
    }
    for (let k = 0; k < width; k++) columns[k].push(row[k]);
    return true;
  }

  async #readCall(columns: unknown[][]): Promise<boolean> {
    const readers = this.#readers!;
    const steps = await Promise.all(readers.map((reader) => reader.next()));
    if (steps.some((step) => step.done)) return this.#done();
    steps.forEach((step, k) => columns[k].push(step.value));
    return true;
  }

  // The shortest input is done: so are the inputs.
  #done(): false {
    this.close();
    return false;
  }
}
