import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeHttpFetch } from "./http-fetch.ts";

// The CLI's fetch on node:http against a real loopback server: what tRPC's HTTP link reads from it
// behaves as the global fetch's would (status, headers, JSON, failures shaped like "fetch failed").
let server: http.Server;
let base = "";
const seen: { method?: string; headers?: http.IncomingHttpHeaders; body?: string }[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => {
      seen.push({ method: req.method, headers: req.headers, body });
      if (req.url === "/html") {
        res.writeHead(502, { "content-type": "text/html" }).end("<html>bad gateway</html>");
      } else if (req.url === "/slow") {
        setTimeout(() => res.end("{}"), 5_000).unref();
      } else {
        res.writeHead(200, { "content-type": "application/json", "x-two": ["a", "b"] }).end('{"ok":"é"}');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

describe("nodeHttpFetch", () => {
  it("sends method, headers and body, and reads status, headers and UTF-8 JSON", async () => {
    const res = await nodeHttpFetch(`${base}/trpc/tasks.create`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer t" },
      body: '{"title":"x"}',
    });
    expect(res.ok).toBe(true);
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("application/json");
    expect(res.headers.get("x-two")).toBe("a, b");
    expect(res.headers.get("x-none")).toBeNull();
    expect(await res.json()).toEqual({ ok: "é" });
    expect(seen.at(-1)).toMatchObject({ method: "POST", body: '{"title":"x"}' });
    expect(seen.at(-1)?.headers?.authorization).toBe("Bearer t");
  });

  it("a non-JSON error page is not ok and its json() throws a SyntaxError, as fetch's does", async () => {
    const res = await nodeHttpFetch(`${base}/html`);
    expect(res.ok).toBe(false);
    expect(res.status).toBe(502);
    expect(await res.text()).toBe("<html>bad gateway</html>");
    await expect(res.json()).rejects.toBeInstanceOf(SyntaxError);
  });

  it("an unreachable server fails with TypeError 'fetch failed' whose cause is the socket error", async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const err = await nodeHttpFetch(`http://127.0.0.1:${port}/trpc`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect((err as Error).message).toBe("fetch failed");
    expect(((err as Error).cause as NodeJS.ErrnoException).code).toBe("ECONNREFUSED");
  });

  it("an aborted signal stops the request with an AbortError", async () => {
    const controller = new AbortController();
    const pending = nodeHttpFetch(`${base}/slow`, { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toMatchObject({ name: "AbortError" });
  });
});
