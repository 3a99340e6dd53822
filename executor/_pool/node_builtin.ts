// Runs on the pool side: node: built-in modules, loaded when first used. A
// static import of one wakes Deno's node compatibility at the program's
// start (~10 ms for node:v8 and node:worker_threads, measured on Deno
// 2.9.6), which a program that never runs a process pool or a memoryLimit
// thread pool should not pay.

/** The node: built-in module `name`, loaded now if it is not yet. */
export function nodeBuiltin<T>(name: string): T {
  return (globalThis as unknown as {
    process: { getBuiltinModule(name: string): T };
  }).process.getBuiltinModule(name);
}
