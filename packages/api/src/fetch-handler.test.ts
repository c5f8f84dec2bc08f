import fs from "node:fs";
import path from "node:path";
import { makeTempDir } from "@kanban/db/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createFetchHandler } from "./fetch-handler.ts";
import { captureLogger } from "./testing.ts";

const TOKEN = "web-token-0123456789abcdef";
const TENANT = "tenant-token-0123456789abcdef";
let home: ReturnType<typeof makeTempDir>;
let handler: (req: Request) => Promise<Response>;

beforeEach(() => {
  home = makeTempDir("kanban-web-");
  handler = createFetchHandler({
    endpoint: "/api/trpc",
    location: { home: home.dir },
    token: TOKEN,
    tenantTokens: { [TENANT]: "acme" },
    bodyLimitBytes: 5000,
    logger: captureLogger(),
  });
});
afterEach(() => home.cleanup());

const base = "http://localhost:3000/api/trpc";
const auth = (token = TOKEN) => ({
  authorization: `Bearer ${token}`,
  host: "localhost:3000",
  "content-type": "application/json",
});

describe("createFetchHandler (Next's route handler)", () => {
  it("serves the router at its endpoint behind the same bearer check", async () => {
    const created = await handler(
      new Request(`${base}/tasks.create`, {
        method: "POST",
        headers: auth(),
        body: JSON.stringify({ title: "from web" }),
      }),
    );
    expect(created.status).toBe(200);
    const body = (await created.json()) as { result: { data: { task: { id: string; created_by: string } } } };
    expect(body.result.data.task.created_by).toBe("dashboard");
    const got = await handler(
      new Request(`${base}/tasks.get?input=${encodeURIComponent(JSON.stringify({ id: body.result.data.task.id }))}`, {
        headers: auth(),
      }),
    );
    expect(got.status).toBe(200);
    expect((await handler(new Request(`${base}/stats.get`, { headers: { host: "localhost:3000" } }))).status).toBe(401);
    const missing = await handler(
      new Request(`${base}/tasks.get?input=${encodeURIComponent(JSON.stringify({ id: "t_none" }))}`, {
        headers: auth(),
      }),
    );
    expect(missing.status).toBe(404);
  });

  it("confines a tenant token, refuses cross-origin writes and oversize bodies", async () => {
    const { result } = (await (
      await handler(
        new Request(`${base}/tasks.create`, {
          method: "POST",
          headers: auth(),
          body: JSON.stringify({ title: "z", tenant: "zeta" }),
        }),
      )
    ).json()) as { result: { data: { task: { id: string } } } };
    const hidden = await handler(
      new Request(`${base}/tasks.get?input=${encodeURIComponent(JSON.stringify({ id: result.data.task.id }))}`, {
        headers: auth(TENANT),
      }),
    );
    expect(hidden.status).toBe(404);
    const cross = await handler(
      new Request(`${base}/tasks.create`, {
        method: "POST",
        headers: { ...auth(), origin: "http://evil.example" },
        body: JSON.stringify({ title: "x" }),
      }),
    );
    expect(cross.status).toBe(403);
    const big = await handler(
      new Request(`${base}/tasks.create`, {
        method: "POST",
        headers: auth(),
        body: JSON.stringify({ title: "x", body: "y".repeat(6000) }),
      }),
    );
    expect(big.status).toBe(413);
  });

  it("answers 408 to a body still arriving at the request timeout (as kanban serve does), then serves the next request", async () => {
    const slow = createFetchHandler({
      endpoint: "/api/trpc",
      location: { home: home.dir },
      token: TOKEN,
      tenantTokens: {},
      requestTimeoutMs: 150,
      logger: captureLogger(),
    });
    // A client that sends the start of a body and then nothing more: the stream never closes.
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"title":'));
      },
    });
    const init = { method: "POST", headers: auth(), body, duplex: "half" } as RequestInit;
    const res = await slow(new Request(`${base}/tasks.create`, init));
    expect(res.status).toBe(408);
    expect(((await res.json()) as { error: { data: { code: string } } }).error.data.code).toBe("TIMEOUT");
    const ok = await slow(
      new Request(`${base}/tasks.create`, {
        method: "POST",
        headers: auth(),
        body: JSON.stringify({ title: "after" }),
      }),
    );
    expect(ok.status).toBe(200);
  });

  it("rereads tenant tokens from config.json (a removed token is refused at the next request); no token is not admin beside them", async () => {
    const file = path.join(home.dir, "config.json");
    fs.writeFileSync(file, JSON.stringify({ tenant_tokens: { [TENANT]: "acme" } }));
    const live = createFetchHandler({
      endpoint: "/api/trpc",
      location: { home: home.dir },
      configCheckMs: 0,
      logger: captureLogger(),
    });
    const list = (headers: Record<string, string>) => live(new Request(`${base}/stats.get`, { headers }));
    expect((await list(auth(TENANT))).status).toBe(200);
    expect((await list({ host: "localhost:3000" })).status).toBe(401);
    fs.writeFileSync(`${file}.tmp`, JSON.stringify({ tenant_tokens: {} }));
    fs.renameSync(`${file}.tmp`, file);
    expect((await list(auth(TENANT))).status).toBe(401);
  });

  it("ends a live stream whose tenant token was removed from config.json", async () => {
    const file = path.join(home.dir, "config.json");
    fs.writeFileSync(file, JSON.stringify({ tenant_tokens: { [TENANT]: "acme" } }));
    const live = createFetchHandler({
      endpoint: "/api/trpc",
      location: { home: home.dir },
      configCheckMs: 0,
      streamRecheckMs: 50,
      logger: captureLogger(),
    });
    const ac = new AbortController();
    const res = await live(
      new Request(`${base}/events.subscribe?input=${encodeURIComponent("{}")}`, {
        headers: { ...auth(TENANT), accept: "text/event-stream" },
        signal: ac.signal,
      }),
    );
    expect(res.status).toBe(200);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    await reader.read(); // the stream is up
    fs.writeFileSync(`${file}.tmp`, JSON.stringify({ tenant_tokens: {} }));
    fs.renameSync(`${file}.tmp`, file);
    let done = false;
    while (!done) done = (await reader.read()).done;
    expect(done).toBe(true);
    ac.abort();
  });
});
