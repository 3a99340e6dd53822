// A task's outcome across Redis (executor/redis/_wire/result.ts): made on
// the node, read by the executor, the two halves of one rule.
import assert from "node:assert/strict";
import { BrokenExecutorError, TimeoutError } from "../../../mod.ts";
import {
  fromResultReply,
  toResultReply,
} from "../../../executor/redis/_wire/result.ts";
import { decode, encode } from "../../../executor/redis/_wire/codec.ts";
import type { ResultReply } from "../../../executor/redis/_wire/records.ts";

// The reply as it crosses Redis: node:v8 bytes and back.
const across = (reply: ResultReply) => decode<ResultReply>(encode(reply));

Deno.test("toResultReply() and fromResultReply() carry a value, and a chunk's values with its error", () => {
  const value = across(toResultReply(1, "n1", 0, { ok: true, value: [1n] }));
  assert.deepEqual(fromResultReply(value, false), { ok: true, value: [1n] });
  const chunk = across(toResultReply(2, "n1", 1, {
    ok: true,
    value: { values: [1, 2], error: new RangeError("third") },
  }));
  const outcome = fromResultReply(chunk, true) as {
    ok: true;
    value: { values: unknown[]; error: Error };
  };
  assert.deepEqual(outcome.value.values, [1, 2]);
  assert.ok(outcome.value.error instanceof RangeError);
  assert.equal(outcome.value.error.message, "third");
});

Deno.test("toResultReply() and fromResultReply() keep a task's own error as it was, with its cause", () => {
  class Custom extends Error {
    override name = "Custom";
  }
  const own = new Custom("mine", { cause: new TypeError("under") });
  const reply = across(toResultReply(3, "n1", 0, { ok: false, error: own }));
  assert.equal((reply as { fault?: string }).fault, undefined);
  const { error } = fromResultReply(reply, false) as {
    ok: false;
    error: Error;
  };
  assert.equal(error.name, "Custom");
  assert.equal(error.message, "mine");
  assert.equal(error.stack, own.stack);
  assert.ok(error.cause instanceof TypeError);
});

Deno.test("toResultReply() marks the node's own faults, which fromResultReply() rebuilds as this library's classes naming the node", () => {
  for (const Fault of [TimeoutError, BrokenExecutorError]) {
    const made = new Fault("it stopped");
    const reply = across(toResultReply(4, "n7", 0, { ok: false, error: made }));
    const { error } = fromResultReply(reply, false) as {
      ok: false;
      error: Error;
    };
    assert.ok(error instanceof Fault, String(error));
    assert.equal(error.message, "it stopped (on node n7)");
    assert.equal(error.stack, made.stack);
  }
  // The node's maxTaskTime, shorter than the task's timeout, says so.
  const limited = across(toResultReply(5, "n7", 0, {
    ok: false,
    error: new TimeoutError("Task timed out after 500 ms"),
  }, 500));
  const { error } = fromResultReply(limited, false) as {
    ok: false;
    error: Error;
  };
  assert.ok(error instanceof TimeoutError);
  assert.match(error.message, /node n7's maxTaskTime of 500 ms/);
});
