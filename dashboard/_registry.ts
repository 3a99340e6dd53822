// Runs on the main thread: which source watches which executor. Factories
// by class prototype: a class registers once, and a subclass has its
// parent's unless it registers its own. Filled by each executor family (the
// pools by serve_dashboard.ts; Redis by executor/redis/, through
// registerDashboardSource), so this folder imports none of them.
import type { DashboardSource, DashboardSourceFactory } from "./source.ts";

const factories = new Map<object, DashboardSourceFactory<never>>();

/** Records `factory` for the instances of the class with `prototype`. */
export function setFactory<E extends object>(
  prototype: E,
  factory: DashboardSourceFactory<E>,
): void {
  factories.set(prototype, factory as DashboardSourceFactory<never>);
}

/**
 * A new source for `executor`, from the factory of its nearest registered
 * class.
 *
 * @throws {TypeError} When no class of `executor` is registered.
 */
export function sourceFor(executor: object): DashboardSource {
  for (
    let proto = Object.getPrototypeOf(executor);
    proto !== null;
    proto = Object.getPrototypeOf(proto)
  ) {
    const factory = factories.get(proto) as
      | DashboardSourceFactory<object>
      | undefined;
    if (factory !== undefined) return factory(executor);
  }
  const name = executor.constructor?.name || "the object";
  throw new TypeError(
    `Cannot serve dashboard as ${name} has no dashboard source: pass a ThreadPoolExecutor, a ProcessPoolExecutor, or a RedisExecutor (imported from the redis entry point)`,
  );
}
