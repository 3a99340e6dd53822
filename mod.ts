/**
 * Python's `concurrent.futures` for Deno.
 *
 * @module
 */
export * from "./future/errors.ts";
export * from "./future/future.ts";
export * from "./executor/executor.ts";
export * from "./executor/pool_executor.ts";
export * from "./executor/thread_pool_executor.ts";
export * from "./executor/from_module.ts";
export * from "./future/wait.ts";
export * from "./future/as_completed.ts";
export * from "./executor/transfer.ts";
export * from "./executor/report_progress.ts";
export * from "./executor/stats.ts";
export * from "./executor/process_pool_executor.ts";
export * from "./dashboard/serve_dashboard.ts";
export * from "./dashboard/register_dashboard_source.ts";
export * from "./dashboard/source.ts";
