// Both sides: one engine per executor or node, connected lazily, and what an
// outage means. The engine reconnects by itself once it has connected; the
// link turns its up and down events into the library's rule: Redis
// unreachable for `connectTimeout` is a loss (the executor then fails what
// it waits for, never hangs), and a first connection that fails is retried
// by the next `connect()`.
import { connect, type Engine, EngineError } from "./_engine.ts";
import { Lifetime } from "./_lifetime.ts";

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

// A command waits this long for its reply, at most: shorter than
// connectTimeout, so a command sent during an outage fails within it.
const COMMAND_TIMEOUT = 5_000;

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
      commandTimeout: Math.min(COMMAND_TIMEOUT, connectTimeout),
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
   * Waits `ms`, or less if the link closes first: a back-off that never
   * holds up `close()`.
   */
  pause(ms: number): Promise<void> {
    return this.lifetime.sleep(ms);
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
