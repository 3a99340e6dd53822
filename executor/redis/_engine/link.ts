// Both sides: one engine per executor or node, connected lazily, and what an
// outage means. The engine reconnects by itself once it has connected; the
// link turns its up and down events into the library's rule: Redis
// unreachable for `connectTimeout` is a loss (the executor then fails what
// it waits for, never hangs), and a first connection that fails is retried
// by the next `connect()`.
import { type Engine, EngineError, isReply } from "./engine.ts";
import { connect, DEFAULT_COMMAND_TIMEOUT } from "./connect.ts";
import { Lifetime } from "./lifetime.ts";

/** What a link connects to. */
export interface LinkOptions {
  url: string;
  /** ms a first connection, or an outage, may last before it is a loss. */
  connectTimeout: number;
  /** The connections' CLIENT SETNAME. */
  name: string;
}

/** What the owner of a link hears. */
export interface LinkEvents {
  /** A first connection is up; runs before `connect()` resolves. */
  connected(engine: Engine): Promise<void>;
  /** The engine is up again after it was down. */
  up(engine: Engine): void;
  /** Redis has been unreachable for `connectTimeout`. */
  lost(error: Error): void;
}

// After an error Redis answered (not an outage: a wrong key type, a group
// that is missing), a loop waits this long before it tries again, so that it
// cannot spin.
const ERROR_PAUSE_MS = 1_000;

/** One engine, its outages, and the waits they cause. */
export class Link {
  readonly #options: LinkOptions;
  readonly #events: LinkEvents;
  /** host:port, for messages: never the credentials. */
  readonly where: string;
  /**
   * The timers and waits of whoever uses this link: all ended by `close()`,
   * so none outlives it whatever Redis does.
   */
  readonly lifetime: Lifetime = new Lifetime();
  #engine: Engine | undefined;
  #connecting: Promise<Engine> | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;
  // Set while the engine is down: clears the timer that declares the loss.
  #lostTimer: (() => void) | undefined;
  // Whoever waits for the engine to be up again (or the link closed).
  #upWaiters = Promise.withResolvers<void>();
  // Resolved once Redis has been unreachable for connectTimeout (or the
  // link closed); a new one after each recovery.
  #lostWait = Promise.withResolvers<void>();
  #lost = false;
  // Bumped each time the engine goes down: what was written in an older
  // generation may be gone if Redis restarts empty. (At the down, not the
  // up: a command may be answered by the new server before every
  // connection is back and the engine counts as up.)
  #generation = 0;

  constructor(options: LinkOptions, events: LinkEvents) {
    this.#options = options;
    this.#events = events;
    this.where = new URL(options.url).host;
  }

  /** The connected engine, if the first connection succeeded. */
  get engine(): Engine | undefined {
    return this.#engine;
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** How many times the engine went down. */
  get generation(): number {
    return this.#generation;
  }

  /**
   * The engine, connecting first if needed. After a failed first
   * connection, the next call tries again.
   *
   * @throws {EngineError} when Redis cannot be reached within
   * `connectTimeout`, or the link is closed.
   */
  connect(): Promise<Engine> {
    if (this.#engine !== undefined) return Promise.resolve(this.#engine);
    if (this.#closed) {
      return Promise.reject(
        new EngineError("closed", "Cannot connect: the link is closed"),
      );
    }
    this.#connecting ??= this.#open().finally(() =>
      this.#connecting = undefined
    );
    return this.#connecting;
  }

  async #open(): Promise<Engine> {
    const { url, connectTimeout, name } = this.#options;
    const engine = await connect(url, {
      connectTimeout,
      commandTimeout: Math.min(DEFAULT_COMMAND_TIMEOUT, connectTimeout),
      name,
    });
    try {
      if (this.#closed) {
        throw new EngineError("closed", "Cannot connect: the link is closed");
      }
      await this.#events.connected(engine);
    } catch (error) {
      await engine.close();
      throw error;
    }
    this.#engine = engine;
    engine.onDown((cause) => this.#down(cause));
    engine.onUp(() => this.#up(engine));
    return engine;
  }

  #down(cause: Error): void {
    if (this.#closed || this.#lostTimer !== undefined) return;
    this.#generation++;
    const { connectTimeout } = this.#options;
    this.#lostTimer = this.lifetime.timer(connectTimeout, () => {
      this.#lost = true;
      this.#lostWait.resolve();
      this.#events.lost(
        new Error(
          `Redis at ${this.where} was unreachable for ${connectTimeout} ms`,
          { cause },
        ),
      );
    });
  }

  #up(engine: Engine): void {
    if (this.#closed) return;
    this.#lostTimer?.();
    this.#lostTimer = undefined;
    if (this.#lost) {
      this.#lost = false;
      this.#lostWait = Promise.withResolvers<void>();
    }
    this.#upWaiters.resolve();
    this.#upWaiters = Promise.withResolvers<void>();
    this.#events.up(engine);
  }

  /** Resolves once the engine is up (at once if it is), or the link closes. */
  whenUp(): Promise<void> {
    if (this.#closed || this.#engine?.up) return Promise.resolve();
    return this.#upWaiters.promise;
  }

  /**
   * Resolves once Redis has been unreachable for `connectTimeout` (at once
   * if it is now), or the link closes: the bound of waits for Redis.
   */
  whenLost(): Promise<void> {
    if (this.#closed || this.#lost) return Promise.resolve();
    return this.#lostWait.promise;
  }

  /**
   * Waits before a loop tries again after `error`: a while after an error
   * Redis answered, so that it cannot spin, then until the engine is up;
   * never past `close()`.
   */
  async afterError(error: unknown): Promise<void> {
    if (isReply(error)) await this.lifetime.sleep(ERROR_PAUSE_MS);
    await this.whenUp();
  }

  /** Closes the engine (waiting for a first connection in flight). */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#closed = true;
    this.lifetime.end();
    this.#lostTimer = undefined;
    this.#upWaiters.resolve();
    this.#lostWait.resolve();
    await this.#connecting?.catch(() => {});
    await this.#engine?.close();
  }
}
