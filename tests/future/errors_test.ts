import assert from "node:assert/strict";
import {
  BrokenExecutorError,
  CancelledError,
  InvalidStateError,
  ShutdownError,
  TimeoutError,
} from "../../mod.ts";

Deno.test("error classes have their class name, extend Error and keep cause", () => {
  for (
    const ErrorClass of [
      CancelledError,
      TimeoutError,
      InvalidStateError,
      BrokenExecutorError,
      ShutdownError,
    ]
  ) {
    const error = new ErrorClass("message", { cause: 42 });
    assert.ok(error instanceof Error);
    assert.ok(error instanceof ErrorClass);
    assert.equal(error.name, ErrorClass.name);
    assert.equal(error.message, "message");
    assert.equal(error.cause, 42);
    assert.ok(new ErrorClass().message.length > 0);
  }
});
