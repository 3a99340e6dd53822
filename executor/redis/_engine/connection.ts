// Inside the engine: the node-redis connections and whether they are up.
// One command connection carries everything that does not block; each
// blocking read borrows a connection of its own, because a connection
// blocked in XREAD(GROUP) BLOCK cannot carry other commands. Commands issued
// in one macrotask leave in one write (node-redis flushes its queue on
// setImmediate), so pipelining needs no MULTI.
//
// node-redis (npm:redis 6) is configured for:
// - RESP3, explicitly (the v6 default), with bulk strings mapped to Buffer, so
//   node:v8 bytes come back byte for byte, and maps mapped to flat arrays, so
//   XREAD(GROUP) replies have the RESP2 shape [key, entries] under either
//   protocol.
// - raw `sendCommand`: no per-command reply transforms, one parser
//   (redis_engine.ts).
// - its own reconnect loop (capped back-off, backoff.ts) and its offline
//   queue: a command sent while the server is away waits for the reconnect,
//   bounded by its timeout. Every command has one; none can hang.
// - an 'error' listener on every connection: an EventEmitter 'error' without
//   one is thrown, and would end the program.
import {
  ClientClosedError,
  createClient,
  DisconnectsClientError,
  ErrorReply,
  RESP_TYPES,
  TimeoutError,
} from "redis";
import { Buffer } from "node:buffer";
import { EngineError } from "./engine.ts";
import { Backoff } from "./backoff.ts";
import type { Script } from "./scripts.ts";

/** A command's arguments: text, or bytes sent as they are. */
export type Arg = string | Buffer;
/** A raw reply, as node-redis parsed it. */
export type Reply = unknown;

/** How the connections are made and bounded. */
export interface ConnectionOptions {
  url: string;
  /** host:port, for messages: never the credentials. */
  where: string;
  connectTimeout: number;
  commandTimeout: number;
  name: string | undefined;
}

function newClient(options: ConnectionOptions, backoff: Backoff) {
  const { url, name, connectTimeout, commandTimeout } = options;
  return createClient({
    url,
    name,
    RESP: 3,
    // Redis Enterprise's maintenance notices: not used here, and their
    // handling reads environment variables (REDIS_DEBUG_MAINTENANCE), which
    // would make the library need --allow-env.
    maintNotifications: "disabled",
    commandOptions: {
      timeout: commandTimeout,
      typeMapping: {
        [RESP_TYPES.BLOB_STRING]: Buffer,
        [RESP_TYPES.MAP]: Array,
      },
    },
    socket: {
      // One TCP connect attempt; the reconnect loop makes the next.
      connectTimeout: Math.min(connectTimeout, commandTimeout),
      reconnectStrategy: backoff.delay,
    },
  });
}

type Client = ReturnType<typeof newClient>;

/** The connections of one engine. */
export class Connection {
  readonly #options: ConnectionOptions;
  readonly #backoff = new Backoff();
  readonly #command: Client;
  // Idle blocking connections; a blocking read takes one or opens one.
  readonly #idleBlocking: Client[] = [];
  // Every connection opened and not destroyed.
  readonly #clients = new Set<Client>();
  // Connections that are connected and ready now.
  readonly #ready = new Set<Client>();
  // Connections still making their first connection: not counted as down,
  // so opening one more blocking connection is no outage.
  readonly #opening = new Set<Client>();
  // Connections whose last command timed out: down until one succeeds.
  readonly #stalled = new Set<Client>();
  // Connections destroyed: one that connects after all is destroyed again.
  readonly #destroyed = new WeakSet<Client>();
  readonly #downListeners = new Set<(cause: Error) => void>();
  readonly #upListeners = new Set<() => void>();
  #up = false;
  #closed = false;
  #closing: Promise<void> | undefined;

  private constructor(options: ConnectionOptions) {
    this.#options = options;
    this.#command = newClient(options, this.#backoff);
  }

  /**
   * A command connection and a blocking one, both connected.
   *
   * @throws {EngineError} of kind "timeout" when Redis cannot be reached
   * within `connectTimeout`.
   */
  static async open(options: ConnectionOptions): Promise<Connection> {
    const connection = new Connection(options);
    await connection.#open(connection.#command);
    try {
      // The first blocking read takes the connection opened here.
      connection.#idleBlocking.push(await connection.#openBlocking());
    } catch (error) {
      await connection.close();
      throw error;
    }
    // Up once every connection is; no event the first time.
    connection.#up = connection.#isUp();
    return connection;
  }

  /** Whether every connection is up and no command has timed out since. */
  get up(): boolean {
    return this.#up;
  }

  /** host:port, for messages. */
  get where(): string {
    return this.#options.where;
  }

  /** How long a command may wait for its reply, in ms. */
  get commandTimeout(): number {
    return this.#options.commandTimeout;
  }

  /**
   * Sends one command on the command connection (or `client`), bounded by
   * the command timeout (or `timeout`); its error is an EngineError.
   */
  async send(args: Arg[], timeout?: number, client?: Client): Promise<Reply> {
    const command = String(args[0]);
    if (this.#closed) {
      throw new EngineError(
        "closed",
        `Cannot send Redis ${command}: the engine is closed`,
      );
    }
    const on = client ?? this.#command;
    const bound = timeout ?? this.#options.commandTimeout;
    try {
      const reply = await on.sendCommand(args, { timeout: bound });
      if (this.#stalled.delete(on)) this.#update();
      return reply;
    } catch (error) {
      const wrapped = this.#wrap(command, error, bound);
      if (error instanceof TimeoutError && !this.#closed) {
        this.#stalled.add(on);
        this.#update(wrapped);
      }
      throw wrapped;
    }
  }

  /**
   * Runs a script: EVALSHA, and EVAL once per server that does not have it
   * yet (a restarted server has lost its script cache).
   */
  async eval(script: Script, keys: Arg[], args: Arg[]): Promise<Reply> {
    const tail = [String(keys.length), ...keys, ...args];
    try {
      return await this.send(["EVALSHA", script.sha, ...tail]);
    } catch (error) {
      if (!(error instanceof EngineError && error.code === "NOSCRIPT")) {
        throw error;
      }
      return await this.send(["EVAL", script.source, ...tail]);
    }
  }

  /** Runs a blocking command on a connection of its own. */
  async blocking(args: Arg[], blockMs: number): Promise<Reply> {
    let client = this.#idleBlocking.pop();
    if (client === undefined) {
      if (this.#closed) {
        throw new EngineError(
          "closed",
          `Cannot send Redis ${args[0]}: the engine is closed`,
        );
      }
      client = await this.#openBlocking();
    }
    try {
      return await this.send(
        args,
        blockMs + this.#options.commandTimeout,
        client,
      );
    } finally {
      if (this.#closed) this.#destroy(client);
      else this.#idleBlocking.push(client);
    }
  }

  /** Calls `listener` when a connection is lost or a command timed out. */
  onDown(listener: (cause: Error) => void): () => void {
    this.#downListeners.add(listener);
    return () => this.#downListeners.delete(listener);
  }

  /** Calls `listener` when every connection is up again. */
  onUp(listener: () => void): () => void {
    this.#upListeners.add(listener);
    return () => this.#upListeners.delete(listener);
  }

  /** Closes every connection; calls in flight reject with kind "closed". */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#closed = true;
    this.#up = false;
    // Blocked reads end now (they reject with kind "closed").
    for (const client of this.#idleBlocking.splice(0)) this.#destroy(client);
    for (const client of this.#clients) {
      if (client !== this.#command) this.#destroy(client);
    }
    // The command connection lets replies in flight arrive, bounded.
    if (this.#command.isReady) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        this.#command.close().catch(() => {}),
        new Promise((resolve) =>
          timer = setTimeout(resolve, this.#options.commandTimeout)
        ),
      ]).finally(() => clearTimeout(timer));
    }
    this.#destroy(this.#command);
    await this.#backoff.settled();
  }

  async #openBlocking(): Promise<Client> {
    const client = this.#command.duplicate();
    await this.#open(client);
    return client;
  }

  // Watches a connection's state, and connects it within connectTimeout.
  async #open(client: Client): Promise<void> {
    this.#watch(client);
    let lastError: Error | undefined;
    const onError = (error: Error) => lastError = error;
    client.on("error", onError);
    this.#opening.add(client);
    const { connectTimeout, where } = this.#options;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const connecting = client.connect();
    try {
      await Promise.race([
        connecting,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() =>
            reject(
              new EngineError(
                "timeout",
                `Cannot connect to Redis at ${where} within ${connectTimeout} ms${
                  lastError ? `: ${lastError.message}` : ""
                }`,
                { cause: lastError },
              ),
            ), connectTimeout);
        }),
      ]);
    } catch (error) {
      // Ends node-redis's retry loop; its connect() then rejects, once the
      // back-off wait it is in (if any) is over.
      connecting.catch(() => {});
      this.#destroy(client);
      await this.#backoff.settled(connecting);
      // Closed meanwhile: the connection was ended on purpose.
      if (this.#closed && !(error instanceof EngineError)) {
        throw new EngineError(
          "closed",
          `Cannot connect to Redis at ${where}: the engine was closed`,
          { cause: error },
        );
      }
      throw error;
    } finally {
      clearTimeout(timer);
      client.off("error", onError);
      this.#opening.delete(client);
    }
  }

  #watch(client: Client): void {
    this.#clients.add(client);
    client.on("ready", () => {
      this.#ready.add(client);
      // A new connection: a timeout on the old one says nothing about it.
      this.#stalled.delete(client);
      this.#update();
    });
    // Every connection error lands here, never on the process.
    client.on("error", (error: Error) => {
      if (client.isReady) return;
      this.#ready.delete(client);
      this.#update(error);
    });
    client.on("end", () => {
      this.#ready.delete(client);
      this.#update(new Error(`Redis connection to ${this.where} ended`));
    });
  }

  #isUp(): boolean {
    return !this.#closed && this.#stalled.size === 0 &&
      [...this.#clients].every((client) =>
        this.#ready.has(client) || this.#opening.has(client)
      );
  }

  #update(cause?: Error): void {
    if (this.#closed) return;
    const up = this.#isUp();
    if (up === this.#up) return;
    this.#up = up;
    // Listeners run after node-redis's emit returns, so one that throws
    // cannot break the client's state machine.
    if (up) {
      for (const listener of this.#upListeners) queueMicrotask(listener);
    } else {
      const error = cause ??
        new Error(`Redis connection to ${this.where} is down`);
      for (const listener of this.#downListeners) {
        queueMicrotask(() => listener(error));
      }
    }
  }

  #destroy(client: Client): void {
    this.#clients.delete(client);
    this.#ready.delete(client);
    this.#stalled.delete(client);
    try {
      client.destroy();
    } catch { /* already closed */ }
    // node-redis (6.3.1) cannot reach a socket still connecting for a
    // reconnect: it connects after destroy() and stays open, and the program
    // with it (once in a few hundred closes after a Redis restart, in the
    // shutdown matrix). It says so with "connect": destroyed then.
    if (!this.#destroyed.has(client)) {
      this.#destroyed.add(client);
      client.on("connect", () => {
        try {
          client.destroy();
        } catch { /* already closed */ }
      });
    }
  }

  #wrap(command: string, error: unknown, timeout: number): EngineError {
    return this.#closed && !(error instanceof EngineError)
      ? new EngineError(
        "closed",
        `Redis ${command} did not finish: the engine was closed`,
        { cause: error },
      )
      : wrapError(command, error, timeout, this.where);
  }
}

// What a node-redis error means for the engine's callers.
function wrapError(
  command: string,
  error: unknown,
  timeout: number,
  where: string,
): EngineError {
  if (error instanceof EngineError) return error;
  if (error instanceof ErrorReply) {
    // Redis's error code is the first word of its message.
    const code = /^[A-Z]+/.exec(error.message)?.[0] ?? "ERR";
    return new EngineError(
      "reply",
      `Redis ${command} failed on ${where}: ${error.message}`,
      { cause: error, code },
    );
  }
  if (error instanceof TimeoutError) {
    return new EngineError(
      "timeout",
      `Redis ${command} got no reply from ${where} within ${timeout} ms`,
      { cause: error },
    );
  }
  if (
    error instanceof ClientClosedError ||
    error instanceof DisconnectsClientError
  ) {
    return new EngineError(
      "closed",
      `Redis ${command} did not finish: its connection was closed`,
      { cause: error },
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  return new EngineError(
    "disconnected",
    `Redis ${command} lost its connection to ${where}: ${message}`,
    { cause: error },
  );
}
