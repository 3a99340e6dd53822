// Runs on the main thread: the check every executor's constructor makes
// first, that its options are an object with no key it does not know.
import { describe } from "../../future/_util.ts";

/**
 * Throws unless `options` is an object whose keys are all in `known`.
 *
 * @param owner The class being constructed, for messages.
 * @throws {TypeError} For a non-object or an unknown option.
 */
export function checkKnownOptions(
  options: unknown,
  owner: string,
  known: readonly string[],
): asserts options is Record<string, unknown> {
  if (options === null || typeof options !== "object") {
    throw new TypeError(
      `Cannot create ${owner} as 'options' must be an object: current value is ${
        describe(options)
      }`,
    );
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new TypeError(
        `Cannot create ${owner} as '${key}' is not an option: the options are ${
          known.join(", ")
        }`,
      );
    }
  }
}
