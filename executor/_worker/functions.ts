// Inside a worker: a task's function, from the spec the pool sent. A source
// is compiled once; a module is imported once; both cached by spec id.
// Self-contained: shipped to workers as source text (see source.ts).
import type { FunctionSpec } from "../_wire/protocol.ts";

/** A task's function. */
export type Fn = (...args: unknown[]) => unknown;

/** The worker's functions, cached by spec id. */
export class Functions {
  readonly #functions = new Map<number, Fn>();
  // Every spec received: the pool sends a spec once, so a task whose module
  // or export was missing the first time must be resolved again by id.
  readonly #specs = new Map<number, FunctionSpec>();
  readonly #modules = new Map<string, Promise<Record<string, unknown>>>();
  // Ids of module tasks: their ReferenceErrors are the module's own.
  readonly #moduleIds = new Set<number>();

  /**
   * The function of a spec, or of a spec id seen before; a promise of it
   * while its module loads.
   */
  resolve(given: number | FunctionSpec): Fn | Promise<Fn> {
    const id = typeof given === "number" ? given : given.id;
    const known = this.#functions.get(id);
    if (known !== undefined) return known;
    const spec = typeof given === "number" ? this.#specs.get(id)! : given;
    this.#specs.set(id, spec);
    if (spec.module === undefined) {
      const fn = Functions.#compile(spec.source!);
      this.#functions.set(id, fn);
      return fn;
    }
    this.#moduleIds.add(id);
    return this.#load(spec.module, spec.name!, id);
  }

  /**
   * Rewrites a self-contained function's `x is not defined` to say why:
   * the function used a variable of the scope it was written in.
   */
  explain(error: unknown, spec: number | FunctionSpec): void {
    const id = typeof spec === "number" ? spec : spec.id;
    if (
      this.#moduleIds.has(id) ||
      (typeof spec === "object" && spec.module !== undefined) ||
      !(error instanceof ReferenceError)
    ) {
      return;
    }
    const match = /^(\S+) is not defined$/.exec(error.message);
    if (match === null) return;
    const name = match[1];
    error.message =
      `${name} is not defined: the task uses '${name}' from the scope it was written in, but a task must be self-contained (its source text runs in the worker). Define '${name}' inside the task (a value may also come as an argument; a function cannot), or move the task to a module and use fromModule()`;
  }

  #load(url: string, name: string, id: number): Promise<Fn> {
    let loading = this.#modules.get(url);
    if (loading === undefined) {
      // A user module URL: publish warns it cannot analyze this, rightly.
      loading = import(url).catch((error) => {
        this.#modules.delete(url);
        throw new TypeError(
          `Cannot load task module '${url}': ${error?.message ?? error}`,
          { cause: error },
        );
      });
      this.#modules.set(url, loading);
    }
    return loading.then((module) => {
      const fn = module[name];
      if (typeof fn !== "function") {
        throw new TypeError(
          `Module '${url}' has no exported function '${name}': ${
            name in module ? `it is a ${typeof fn}` : "no such export"
          }`,
        );
      }
      this.#functions.set(id, fn as Fn);
      return fn as Fn;
    });
  }

  // Strict code, as a module is (and as TypeScript users write it): in
  // sloppy mode V8 ran fib(30) through a nested helper function 1.3-1.6x
  // slower (bench/function_task_bench.ts).
  static #compile(source: string): Fn {
    const indirectEval = eval;
    try {
      return indirectEval(`"use strict";(${source}\n)`);
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      // A method shorthand (`{ f(x) { ... } }.f`) is not an expression alone.
      const holder = indirectEval(`"use strict";({${source}\n})`);
      return Object.values(holder)[0] as Fn;
    }
  }
}
