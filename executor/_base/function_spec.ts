// Runs on the main thread: turns what the user submits into the
// `FunctionSpec` a worker understands.
import type { FunctionSpec } from "../_wire/protocol.ts";
import { TaskRef } from "../from_module.ts";
import { describe } from "../../future/_util.ts";

// One spec per function or reference, so its source is read once and each
// worker compiles it once (the worker caches by id).
const specs = new WeakMap<object, FunctionSpec>();
const bySource = new Map<string, FunctionSpec>();
// The name of the first function a source spec was made from (for the
// dashboard: `name` does not travel, and an arrow function's source lacks it).
const names = new WeakMap<FunctionSpec, string>();
let nextId = 1;

// Deno's built-ins written in JS (fetch, structuredClone, Deno.readTextFile)
// do not read as `[native code]`, but their source needs Deno's internals:
// sent, it fails with a baffling ReferenceError or, for structuredClone,
// returns undefined. Taken at load, before user code adds globals.
const BUILT_INS = new WeakSet<object>();
// Globals behind a getter (atob, setTimeout), compared by name at submit: a
// getter (localStorage) must not run here.
const LAZY_GLOBALS = new Set<string>();
for (const holder of [globalThis, Deno]) {
  for (const key of Object.getOwnPropertyNames(holder)) {
    const property = Object.getOwnPropertyDescriptor(holder, key);
    if (typeof property?.value === "function") BUILT_INS.add(property.value);
    else if (property?.get !== undefined && holder === globalThis) {
      LAZY_GLOBALS.add(key);
    }
  }
}

// deno-lint-ignore ban-types
function isBuiltIn(fn: Function): boolean {
  return BUILT_INS.has(fn) ||
    (LAZY_GLOBALS.has(fn.name) && Reflect.get(globalThis, fn.name) === fn);
}

/**
 * The `FunctionSpec` of a task.
 *
 * @throws {TypeError} For something that is not a function or a `TaskRef`,
 * and for a native, bound or class function, whose source cannot travel.
 */
export function functionSpec(task: unknown, action: string): FunctionSpec {
  if (typeof task === "object" || typeof task === "function") {
    const known = task === null ? undefined : specs.get(task);
    if (known !== undefined) return known;
  }
  let spec: FunctionSpec;
  if (task instanceof TaskRef) {
    spec = { id: nextId++, module: task.module, name: task.name };
  } else if (typeof task === "function") {
    // `pool.submit((x) => x + 1, i)` in a loop makes a new function each
    // time: the same source shares one spec, so workers compile it once and
    // the pool learns its cost.
    const source = sourceOf(task, action);
    spec = bySource.get(source) ?? { id: nextId++, source };
    bySource.set(source, spec);
    if (task.name !== "" && !names.has(spec)) names.set(spec, task.name);
  } else {
    throw new TypeError(
      `Cannot ${action} as 'fn' must be a function or a task from fromModule(): current value is ${
        describe(task)
      }`,
    );
  }
  specs.set(task, spec);
  return spec;
}

// deno-lint-ignore ban-types
function sourceOf(fn: Function, action: string): string {
  const source = Function.prototype.toString.call(fn);
  const name = fn.name || "anonymous";
  if (fn.name.startsWith("bound ")) {
    throw new TypeError(
      `Cannot ${action} as 'fn' (${name}) is a bound function, whose source cannot be sent to a worker: pass the bound values as arguments instead`,
    );
  }
  if (/\{\s*\[native code\]\s*\}$/.test(source) || isBuiltIn(fn)) {
    throw new TypeError(
      `Cannot ${action} as 'fn' (${name}) is a native function, whose source cannot be sent to a worker: wrap it, e.g. (x) => Math.sqrt(x)`,
    );
  }
  if (/^class\b/.test(source)) {
    throw new TypeError(
      `Cannot ${action} as 'fn' (${name}) is a class, not a function`,
    );
  }
  return source;
}

/**
 * The spec of a function given as source text, as a task from another
 * machine arrives (a Redis node): the same source shares one spec, as in
 * `functionSpec`. The source is only compiled inside a worker.
 */
export function sourceSpec(source: string): FunctionSpec {
  let spec = bySource.get(source);
  if (spec === undefined) bySource.set(source, spec = { id: nextId++, source });
  return spec;
}

const byExport = new Map<string, FunctionSpec>();

/** The spec of a module's export, one per URL and name. */
export function moduleSpec(module: string, name: string): FunctionSpec {
  const key = `${name}@${module}`;
  let spec = byExport.get(key);
  if (spec === undefined) {
    byExport.set(key, spec = { id: nextId++, module, name });
  }
  return spec;
}

/**
 * A task's name, to show it: a module task's export name, a function's
 * `name`, else the name in its source (`function fib(`), else
 * `"anonymous"`.
 */
export function functionName(spec: FunctionSpec): string {
  if (spec.name !== undefined) return spec.name;
  const name = names.get(spec);
  if (name !== undefined) return name;
  const declared = /^\s*(?:async\s+)?function\s*\*?\s*([\w$]+)/
    .exec(spec.source ?? "");
  return declared?.[1] ?? "anonymous";
}
