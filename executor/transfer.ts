/**
 * `transfer`: return a result from a task by moving its buffers, not
 * copying them.
 *
 * @module
 */
import { PROTOCOL } from "./_wire/protocol.ts";

/**
 * Marks a task's result so the worker moves `transferables` to the caller
 * instead of copying them (zero-copy, like `postMessage`'s transfer list).
 * Use it in a module task; a self-contained function task can return the
 * same shape itself: `{ "@concurrent/futures:transfer": [buffer], value }`.
 * Typed as `T`, since the future resolves with `value` itself.
 *
 * @typeParam T The result's type.
 * @param value The result.
 * @param transferables The buffers (or other transferables) inside it.
 * @returns The marked result, to return from the task.
 *
 * @example Return a buffer without copying it
 * ```ts
 * import { transfer } from "@concurrent/futures";
 * import assert from "node:assert/strict";
 *
 * export function makeBytes(n: number): ArrayBuffer {
 *   const buffer = new ArrayBuffer(n);
 *   return transfer(buffer, [buffer]);
 * }
 * assert.ok(makeBytes(4));
 * ```
 */
export function transfer<T>(value: T, transferables: Transferable[]): T {
  return { [PROTOCOL.TRANSFER_KEY]: transferables, value } as unknown as T;
}
