/**
 * Python's `concurrent.futures` for Deno.
 *
 * @module
 */
export * from "./future/errors.ts";
export * from "./future/future.ts";
export * from "./executor/executor.ts";
export * from "./executor/thread_pool_executor.ts";
export * from "./executor/from_module.ts";
