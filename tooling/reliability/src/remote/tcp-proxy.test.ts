import { randomBytes } from "node:crypto";
import http from "node:http";
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { waitFor } from "../support/env.ts";
import { TcpProxy } from "./tcp-proxy.ts";

/** The proxy on its own, against a plain echo server and a plain HTTP server on loopback. */

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        // Open sockets would keep close() waiting.
        if ("closeAllConnections" in server) (server as http.Server).closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return (server.address() as net.AddressInfo).port;
}

/** An echo server that also counts what it received. */
async function echoServer(): Promise<{ port: number; received: () => number; sockets: Set<net.Socket> }> {
  let received = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on("data", (d) => {
      received += d.length;
      s.write(d);
    });
    s.on("error", () => undefined);
    s.on("close", () => sockets.delete(s));
  });
  closers.push(async () => {
    for (const s of sockets) s.destroy();
  });
  return { port: await listen(server), received: () => received, sockets };
}

/** An HTTP server answering `ok <n>` and counting the requests it saw. */
async function httpServer(): Promise<{ port: number; requests: () => number }> {
  let requests = 0;
  const server = http.createServer((_req, res) => {
    requests++;
    res.end(`ok ${requests}`);
  });
  return { port: await listen(server), requests: () => requests };
}

async function proxyTo(port: number): Promise<TcpProxy> {
  const proxy = await TcpProxy.start({ port });
  closers.push(() => proxy.close());
  return proxy;
}

/**
 * A client connection through the proxy that collects what comes back and how it ended. `opened`
 * false: do not wait for the handshake (a reset can beat the `connect` event).
 */
async function connect(port: number, opened = true) {
  const socket = net.connect(port, "127.0.0.1");
  let data = Buffer.alloc(0);
  let error: NodeJS.ErrnoException | null = null;
  let closed = false;
  socket.on("data", (d: Buffer) => {
    data = Buffer.concat([data, d]);
  });
  socket.on("error", (e) => {
    error = e;
  });
  socket.on("close", () => {
    closed = true;
  });
  if (opened) await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  closers.push(async () => {
    socket.destroy();
  });
  return { socket, data: () => data, error: () => error, closed: () => closed };
}

/** What a fetch through the proxy ends with: its body, or the code of the error beneath "fetch failed". */
async function get(url: string, timeoutMs?: number): Promise<string> {
  try {
    const res = await fetch(url, timeoutMs === undefined ? {} : { signal: AbortSignal.timeout(timeoutMs) });
    return await res.text();
  } catch (e) {
    const err = e as Error & { cause?: { code?: string } };
    if (err.name === "TimeoutError") return "timeout";
    return `error ${err.cause?.code ?? err.message}`;
  }
}

describe("tcp proxy", () => {
  it("passes bytes through both ways, unchanged and in order", async () => {
    const echo = await echoServer();
    const proxy = await proxyTo(echo.port);
    const c = await connect(proxy.port);
    const payload = randomBytes(1 << 20);
    c.socket.write(payload);
    await waitFor(() => c.data().length >= payload.length, "the echo of 1 MiB");
    expect(c.data().equals(payload)).toBe(true);
    expect(proxy.stats.bytesUp).toBe(payload.length);
    expect(proxy.stats.bytesDown).toBe(payload.length);

    const web = await httpServer();
    const webProxy = await proxyTo(web.port);
    expect(await get(webProxy.url)).toBe("ok 1");
    expect(await get(webProxy.url)).toBe("ok 2");
  });

  it("cut resets every open connection and refuses new ones until restore", async () => {
    const echo = await echoServer();
    const proxy = await proxyTo(echo.port);
    const c = await connect(proxy.port);
    c.socket.write("before");
    await waitFor(() => c.data().toString() === "before", "the first echo");

    proxy.cut();
    await waitFor(() => c.closed(), "the open connection to be closed by the cut");
    expect(c.error()?.code).toBe("ECONNRESET");
    await waitFor(() => echo.sockets.size === 0, "the upstream side to be closed too");

    // A new connection is accepted by the kernel and reset at once: no byte ever reaches upstream.
    const during = await connect(proxy.port, false);
    during.socket.write("during");
    await waitFor(() => during.closed(), "a connection made during the cut to be reset");
    expect(during.data().length).toBe(0);
    expect(echo.received()).toBe("before".length);

    const web = await httpServer();
    const webProxy = await proxyTo(web.port);
    webProxy.cut();
    expect(await get(webProxy.url)).toBe("error ECONNRESET");
    expect(web.requests()).toBe(0);
    webProxy.restore();
    expect(await get(webProxy.url)).toBe("ok 1");

    proxy.restore();
    const after = await connect(proxy.port);
    after.socket.write("after");
    await waitFor(() => after.data().toString() === "after", "an echo after restore");
    expect(proxy.stats.cuts).toBe(1);
    expect(proxy.stats.reset).toBe(2);
  });

  it("stall keeps sockets open and forwards nothing; restore delivers what was held, in order", async () => {
    const echo = await echoServer();
    const proxy = await proxyTo(echo.port);
    const c = await connect(proxy.port);
    c.socket.write("one ");
    await waitFor(() => c.data().toString() === "one ", "the first echo");

    proxy.stall();
    c.socket.write("two ");
    c.socket.write("three");
    const fresh = await connect(proxy.port);
    fresh.socket.write("fresh");
    await waitFor(() => proxy.connections === 2, "the proxy to hold the new connection");
    // Nothing moves while stalled, however long one looks (a slow machine only looks longer).
    await new Promise((r) => setTimeout(r, 300));
    expect(echo.received()).toBe("one ".length);
    expect(echo.sockets.size).toBe(1);
    expect(c.closed() || fresh.closed()).toBe(false);

    proxy.restore();
    await waitFor(() => c.data().toString() === "one two three", "the held bytes of the open connection");
    await waitFor(() => fresh.data().toString() === "fresh", "the held bytes of the connection made during the stall");
    expect(c.error()).toBeNull();

    // Over HTTP a stall is a request that never gets an answer; one sent during it is answered after.
    const web = await httpServer();
    const webProxy = await proxyTo(web.port);
    webProxy.stall();
    expect(await get(webProxy.url, 300)).toBe("timeout");
    const pending = get(webProxy.url);
    await waitFor(() => webProxy.connections >= 1, "the proxy to hold the pending request");
    expect(web.requests()).toBe(0);
    webProxy.restore();
    expect(await pending).toMatch(/^ok \d$/);
  });

  it("a server that is down is a connection error through the proxy, and retarget follows a moved server", async () => {
    const web = await httpServer();
    const proxy = await proxyTo(web.port);
    const dead = net.createServer();
    const deadPort = await listen(dead);
    await new Promise<void>((resolve) => dead.close(() => resolve()));
    proxy.retarget(deadPort);
    expect(await get(proxy.url)).toBe("error ECONNRESET");
    proxy.retarget(web.port);
    expect(await get(proxy.url)).toBe("ok 1");
  });
});
