// A throwaway redis-server for the cluster example: a free port on
// 127.0.0.1, persistence off, its files in a temp dir; `undefined` where
// redis-server is not installed.
export interface LocalRedis extends AsyncDisposable {
  /** `redis://127.0.0.1:PORT`. */
  url: string;
}

function onPath(program: string): boolean {
  return (Deno.env.get("PATH") ?? "").split(":").some((dir) => {
    try {
      return dir !== "" && Deno.statSync(`${dir}/${program}`).isFile;
    } catch {
      return false;
    }
  });
}

async function answersPing(port: number): Promise<boolean> {
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    try {
      await conn.write(new TextEncoder().encode("PING\r\n"));
      const buffer = new Uint8Array(16);
      const n = await conn.read(buffer);
      return new TextDecoder().decode(buffer.subarray(0, n ?? 0))
        .startsWith("+PONG");
    } finally {
      conn.close();
    }
  } catch {
    return false;
  }
}

/** Starts redis-server and waits until it answers, or returns undefined. */
export async function startLocalRedis(): Promise<LocalRedis | undefined> {
  if (!onPath("redis-server")) return undefined;
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const dir = await Deno.makeTempDir({ prefix: "cluster-example-" });
  const server = new Deno.Command("redis-server", {
    args: [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      dir,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const stop = async () => {
    try {
      server.kill("SIGTERM");
    } catch { /* already gone */ }
    await server.status;
    await Deno.remove(dir, { recursive: true });
  };
  // A server starts in milliseconds; nothing to wait on but its port.
  const giveUp = Date.now() + 10_000;
  while (!(await answersPing(port))) {
    if (Date.now() > giveUp) {
      await stop();
      throw new Error(`redis-server did not answer on port ${port}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return { url: `redis://127.0.0.1:${port}`, [Symbol.asyncDispose]: stop };
}
