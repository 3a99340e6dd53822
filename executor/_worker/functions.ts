// Inside a worker: a task's function, from the spec the pool sent. A source
// is compiled once; a module is imported once; both cached by spec id.
// Self-contained: shipped to workers as source text (see source.ts).
import type { FunctionSpec } from "../_protocol.ts";

/** A task's function. */
export type Fn = (...args: unknown[]) => unknown;

/** The worker's functions. */
export interface Functions {
  /**
   * The function of a spec, or of a spec id seen before; a promise of it
   * while its module loads.
   */
  resolve(spec: number | FunctionSpec): Fn | Promise<Fn>;
  /**
   * Rewrites a self-contained function's `x is not defined` to say why:
   * the function used a variable of the scope it was written in.
   */
  explain(error: unknown, spec: number | FunctionSpec): void;
}

/** Makes the worker's function cache. */
export function makeFunctions(): Functions {
  const functions = new Map<number, Fn>();
  // Every spec received: the pool sends a spec once, so a task whose module
  // or export was missing the first time must be resolved again by id.
  const specs = new Map<number, FunctionSpec>();
  const modules = new Map<string, Promise<Record<string, unknown>>>();
  // Ids of module tasks: their ReferenceErrors are the module's own.
  const moduleIds = new Set<number>();

  function compile(source: string): Fn {
    const indirectEval = eval;
    try {
      return indirectEval(`(${source}\n)`);
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      // A method shorthand (`{ f(x) { ... } }.f`) is not an expression alone.
      const holder = indirectEval(`({${source}\n})`);
      return Object.values(holder)[0] as Fn;
    }
  }

  function load(url: string, name: string, id: number): Promise<Fn> {
    let loading = modules.get(url);
    if (loading === undefined) {
      // A user module URL: publish warns it cannot analyze this, rightly.
      loading = import(url).catch((error) => {
        modules.delete(url);
        throw new TypeError(
          `Cannot load task module '${url}': ${error?.message ?? error}`,
          { cause: error },
        );
      });
      modules.set(url, loading);
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
      functions.set(id, fn as Fn);
      return fn as Fn;
    });
  }

  return {
    resolve(given) {
      const id = typeof given === "number" ? given : given.id;
      const known = functions.get(id);
      if (known !== undefined) return known;
      const spec = typeof given === "number" ? specs.get(id)! : given;
      specs.set(id, spec);
      if (spec.module === undefined) {
        const fn = compile(spec.source!);
        functions.set(id, fn);
        return fn;
      }
      moduleIds.add(id);
      return load(spec.module, spec.name!, id);
    },

    explain(error, spec) {
      const id = typeof spec === "number" ? spec : spec.id;
      if (
        moduleIds.has(id) ||
        (typeof spec === "object" && spec.module !== undefined) ||
        !(error instanceof ReferenceError)
      ) {
        return;
      }
      const match = /^(\S+) is not defined$/.exec(error.message);
      if (match === null) return;
      const name = match[1];
      error.message =
        `${name} is not defined: the task uses '${name}' from the scope it was written in, but a task must be self-contained (its source text runs in the worker). Pass '${name}' as an argument, or move the function to a module and use fromModule()`;
    },
  };
}
