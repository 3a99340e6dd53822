/**
 * `fromModule`: typed references to a module's exported functions, to run as
 * tasks.
 *
 * @module
 */

/**
 * A reference to an exported function of a module, runnable as a task: the
 * worker imports the module once and calls the export. Made by
 * {@linkcode fromModule}.
 *
 * @typeParam A The function's parameters.
 * @typeParam R The function's return type.
 *
 * @example A task reference made by hand
 * ```ts
 * import { TaskRef } from "@concurrent/futures";
 * import assert from "node:assert/strict";
 *
 * const ref = new TaskRef<[number], number>("file:///tasks.ts", "fib");
 * assert.equal(ref.name, "fib");
 * ```
 */
export class TaskRef<A extends unknown[] = unknown[], R = unknown> {
  /** The module's URL. */
  readonly module: string;
  /** The export's name. */
  readonly name: string;
  /** Type-only: carries the function's signature for `submit`. */
  declare readonly "~signature"?: (...args: A) => R;

  /**
   * Makes a reference to `module`'s export `name`.
   *
   * @param module The module's URL.
   * @param name The export's name.
   */
  constructor(module: string | URL, name: string) {
    this.module = String(module);
    this.name = name;
    Object.freeze(this);
  }
}

/** The exported functions of module type `M`, as task references. */
export type ModuleTasks<M> = {
  readonly [
    K in keyof M as M[K] extends (...args: never[]) => unknown ? K
      : never
  ]: M[K] extends (...args: infer A) => infer R ? TaskRef<A, R>
    : never;
};

/**
 * Typed task references to the exported functions of a module. Pass the
 * module's type, so `pool.submit(tasks.fib, 30)` is a `Future<number>` and a
 * wrong argument fails type-checking. Nothing is imported here: each worker
 * imports the module once, when its first task needs it. A missing module or
 * export fails that task's future with an error that names it.
 *
 * @typeParam M The module's type: `typeof import("./tasks.ts")`.
 * @param url The module's URL: `new URL("./tasks.ts", import.meta.url)`.
 * @returns An object whose properties are task references.
 * @throws {TypeError} If `url` is not a valid absolute URL.
 *
 * @example Run an exported function in a worker
 * ```ts
 * import { fromModule, ThreadPoolExecutor } from "@concurrent/futures";
 * import assert from "node:assert/strict";
 *
 * const source = "export const double = (n: number): number => n * 2;";
 * const url = `data:application/typescript,${encodeURIComponent(source)}`;
 * const tasks = fromModule<{ double: (n: number) => number }>(url);
 * await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
 * assert.equal(await pool.submit(tasks.double, 21).result(), 42);
 * ```
 */
export function fromModule<M>(url: string | URL): ModuleTasks<M> {
  let href: string;
  try {
    href = new URL(url).href;
  } catch {
    throw new TypeError(
      `Cannot make module tasks as 'url' must be an absolute URL: current value is ${
        String(url)
      } (use new URL("./tasks.ts", import.meta.url))`,
    );
  }
  const refs = new Map<string, TaskRef>();
  return new Proxy({}, {
    get(_, name) {
      // Not a thenable, and no symbol is an export.
      if (typeof name !== "string" || name === "then") return undefined;
      let ref = refs.get(name);
      if (ref === undefined) refs.set(name, ref = new TaskRef(href, name));
      return ref;
    },
  }) as ModuleTasks<M>;
}
