import fs from "node:fs";
import path from "node:path";
import type { BoardLocation } from "@kanban/db";
import { makeTempDir } from "@kanban/db/testing";
import { afterEach, describe, expect, it } from "vitest";
import { NO_TOKEN_WITH_TENANTS } from "./auth.ts";
import { type RunningServer, startServer } from "./server.ts";
import { captureLogger } from "./testing.ts";

/**
 * Tokens as the operator manages them: tenant_tokens in config.json, edited while `kanban serve`
 * runs, against a real server on an ephemeral loopback port.
 */
const ADMIN = "admin-token-0123456789abcdef";
const ACME = "acme-token-0123456789abcdef";
const GLOBEX = "globex-token-0123456789abcdef";

let running: { server: RunningServer; cleanup: () => void } | null = null;
afterEach(async () => {
  if (running) {
    await running.server.close();
    running.cleanup();
    running = null;
  }
});

function writeConfig(home: string, config: unknown): void {
  // Through a rename, as editors save: the reader sees a new file, whatever its size.
  const file = path.join(home, "config.json");
  fs.writeFileSync(`${file}.tmp`, typeof config === "string" ? config : JSON.stringify(config));
  fs.renameSync(`${file}.tmp`, file);
}

async function serve(opts: { token?: string; config?: unknown; streamRecheckMs?: number }) {
  const { dir, cleanup } = makeTempDir("kanban-auth-");
  if (opts.config !== undefined) writeConfig(dir, opts.config);
  const location: BoardLocation = { home: dir };
  const logger = captureLogger();
  // configCheckMs 0: every request sees the file as it is now, so "the next request" is exact.
  const server = await startServer({
    port: 0,
    location,
    logger,
    token: opts.token,
    configCheckMs: 0,
    streamRecheckMs: opts.streamRecheckMs,
    terminate: () => {},
  });
  running = { server, cleanup };
  return { server, home: dir, logger };
}

interface Reply {
  status: number;
  text: string;
}

async function call(
  base: string,
  proc: string,
  opts: { token?: string; input?: unknown; method?: "GET" | "POST" } = {},
): Promise<Reply> {
  const method = opts.method ?? "GET";
  const url =
    method === "GET"
      ? `${base}/trpc/${proc}${opts.input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify(opts.input))}`}`
      : `${base}/trpc/${proc}`;
  const res = await fetch(url, {
    method,
    headers: { "content-type": "application/json", ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}) },
    body: method === "POST" ? JSON.stringify(opts.input ?? {}) : undefined,
  });
  return { status: res.status, text: await res.text() };
}

describe("tenant tokens without an admin token (item 5)", () => {
  it("refuses a request without a token (401, saying why) instead of treating it as admin, and says so at start", async () => {
    const { server, logger } = await serve({ config: { tenant_tokens: { [ACME]: "acme" } } });
    const anonymous = await call(server.url, "tasks.list");
    expect(anonymous.status).toBe(401);
    expect(JSON.parse(anonymous.text).error.message).toBe(NO_TOKEN_WITH_TENANTS);
    const admin = await call(server.url, "boards.create", { method: "POST", input: { slug: "x" } });
    expect(admin.status).toBe(401);
    // The tenant token works, confined to its tenant.
    const created = await call(server.url, "tasks.create", { method: "POST", token: ACME, input: { title: "a" } });
    expect(created.status).toBe(200);
    expect(JSON.parse(created.text).result.data.task.tenant).toBe("acme");
    const refusedLine = logger.lines.find((l) => l.message.includes("requests without a token are refused"));
    expect(refusedLine?.level).toBe("warn");
    expect(logger.lines.find((l) => l.message === "listening")?.fields).toMatchObject({
      auth: "tenant tokens only (no admin token)",
      tenant_tokens: 1,
    });
  });

  it("also fails closed when tenant_tokens is declared but every entry was dropped, or the file is broken", async () => {
    const { server, home } = await serve({ config: { tenant_tokens: { short: "acme" } } });
    expect((await call(server.url, "tasks.list")).status).toBe(401);
    writeConfig(home, `{"tenant_tokens": {"${ACME}": "acme",}`);
    expect((await call(server.url, "tasks.list")).status).toBe(401);
    writeConfig(home, {});
    // With no tenant tokens at all, loopback stays open, as before.
    expect((await call(server.url, "tasks.list")).status).toBe(200);
  });
});

describe("tenant tokens edited while the server runs (items 6, 7)", () => {
  it("a removed token is refused at the next request; an added one works at once; the admin token never changes", async () => {
    const { server, home } = await serve({
      token: ADMIN,
      config: { tenant_tokens: { [ACME]: "acme", [GLOBEX]: "globex" } },
    });
    expect((await call(server.url, "tasks.list", { token: ACME })).status).toBe(200);
    writeConfig(home, { tenant_tokens: { [GLOBEX]: "globex" } });
    expect((await call(server.url, "tasks.list", { token: ACME })).status).toBe(401);
    expect((await call(server.url, "tasks.list", { token: GLOBEX })).status).toBe(200);
    const renamed = "acme-token-rotated-0123456789";
    writeConfig(home, { tenant_tokens: { [GLOBEX]: "globex", [renamed]: "acme" } });
    expect((await call(server.url, "tasks.list", { token: renamed })).status).toBe(200);
    expect((await call(server.url, "tasks.list", { token: ACME })).status).toBe(401);
    expect((await call(server.url, "boards.list", { token: ADMIN })).status).toBe(200);
  });

  it("a live stream opened with a token that is then removed is cut, like the next request would be refused", async () => {
    const { server, home } = await serve({
      token: ADMIN,
      config: { tenant_tokens: { [ACME]: "acme", [GLOBEX]: "globex" } },
      streamRecheckMs: 50,
    });
    const open = async (token: string) => {
      const res = await fetch(`${server.url}/trpc/events.subscribe?input=${encodeURIComponent("{}")}`, {
        headers: { accept: "text/event-stream", authorization: `Bearer ${token}` },
      });
      expect(res.status).toBe(200);
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      // The stream is up once its first frame (tRPC's "connected") arrives.
      await reader.read();
      let ended = false;
      const drained = (async () => {
        try {
          for (;;) if ((await reader.read()).done) break;
        } catch {
          // a cut connection ends the read with an error: ended all the same
        }
        ended = true;
      })();
      return { ended: () => ended, drained, cancel: () => reader.cancel().catch(() => {}) };
    };
    const acme = await open(ACME);
    const globex = await open(GLOBEX);
    writeConfig(home, { tenant_tokens: { [GLOBEX]: "globex" } });
    await acme.drained;
    expect(acme.ended()).toBe(true);
    // The other tenant's stream stays open (it is still going after acme's was cut).
    expect(globex.ended()).toBe(false);
    await globex.cancel();
  });

  it("a bad entry never reaches a response or the log, and never takes the other tenants down", async () => {
    const { server, home, logger } = await serve({
      token: ADMIN,
      config: { tenant_tokens: { [ACME]: "acme", [GLOBEX]: "globex" } },
    });
    const { result } = JSON.parse(
      (await call(server.url, "tasks.create", { method: "POST", token: GLOBEX, input: { title: "g" } })).text,
    );
    const globexTask = result.data.task.id as string;
    const SHORT = "tok-short";
    const SPACED = "spaced-tenant-token-0123456789";
    const WHITESPACE_TOKEN = "has whitespace-0123456789abcdef";
    writeConfig(home, {
      tenant_tokens: {
        [ACME]: "acme",
        [GLOBEX]: "globex",
        [SHORT]: "initech",
        [SPACED]: "   ",
        [WHITESPACE_TOKEN]: "umbrella",
      },
    });
    const texts: string[] = [];
    for (const token of [ACME, GLOBEX, SHORT, SPACED, undefined]) {
      for (const proc of ["tasks.list", "config.get", "tasks.get"]) {
        const r = await call(server.url, proc, { token, input: proc === "tasks.get" ? { id: globexTask } : undefined });
        texts.push(r.text);
        if (token === ACME) expect(r.status).toBe(proc === "tasks.get" ? 404 : 200);
        if (token === GLOBEX) expect(r.status).toBe(200);
        // A tenant mapped to whitespace is no tenant, and never admin.
        if (token === SPACED || token === SHORT || token === undefined) expect(r.status).toBe(401);
      }
    }
    // The refused entries' tokens appear nowhere: not in any answer, not in the log.
    const log = JSON.stringify(logger.lines);
    for (const secret of [SHORT, SPACED, WHITESPACE_TOKEN, ACME, GLOBEX, ADMIN]) {
      for (const t of texts) expect(t).not.toContain(secret);
      expect(log).not.toContain(secret);
    }
    expect(
      logger.lines.some((l) => l.level === "warn" && JSON.stringify(l.fields ?? {}).includes("tenant_tokens")),
    ).toBe(true);

    // A file broken mid-edit keeps the last valid tokens working, and its error names no token.
    writeConfig(home, `{"tenant_tokens": {"${ACME}": "acme", "${GLOBEX}": "globex"`);
    expect((await call(server.url, "tasks.list", { token: ACME })).status).toBe(200);
    const g = await call(server.url, "tasks.get", { token: GLOBEX, input: { id: globexTask } });
    expect(g.status).toBe(200);
    expect(g.text).not.toContain(GLOBEX);
    expect(JSON.stringify(logger.lines)).not.toContain(ACME);
  });

  it("a tenant token mapped to blank text is refused even when passed in directly, never admin", async () => {
    const { dir, cleanup } = makeTempDir("kanban-auth-");
    const server = await startServer({
      port: 0,
      location: { home: dir },
      logger: captureLogger(),
      tenantTokens: { [ACME]: "  " },
      terminate: () => {},
    });
    running = { server, cleanup };
    expect(
      (await call(server.url, "boards.create", { method: "POST", token: ACME, input: { slug: "nope" } })).status,
    ).toBe(401);
    expect(fs.existsSync(path.join(dir, "kanban", "boards", "nope"))).toBe(false);
  });
});

describe("host tokens (remote hosts)", () => {
  const HOST = "host-token-0123456789abcdef";

  it("are a third kind of caller: refused everywhere but hosts.*, edited live, and never logged", async () => {
    const { server, home, logger } = await serve({
      token: ADMIN,
      config: { tenant_tokens: { [ACME]: "acme" }, host_tokens: { [HOST]: { name: "mac-1" } } },
    });
    const created = await call(server.url, "tasks.create", { method: "POST", token: ADMIN, input: { title: "a" } });
    const id = JSON.parse(created.text).result.data.task.id as string;
    for (const [proc, method, input] of [
      ["tasks.list", "GET", undefined],
      ["tasks.get", "GET", { id }],
      ["board.get", "GET", undefined],
      ["tasks.complete", "POST", { id, summary: "x" }],
      ["tasks.create", "POST", { title: "b" }],
      ["boards.create", "POST", { slug: "mine" }],
    ] as const) {
      const r = await call(server.url, proc, { token: HOST, method, input });
      expect(r.status, proc).toBe(403);
      expect(JSON.parse(r.text).error.message).toContain("a host token cannot call");
    }
    // (Admin, tenant and run tokens refused by hosts.*: routers/hosts/hosts.test.ts.)
    // The start line counts them (never shows them).
    expect(logger.lines.find((l) => l.message === "listening")?.fields).toMatchObject({
      tenant_tokens: 1,
      host_tokens: 1,
    });
    expect(
      JSON.parse((await call(server.url, "tasks.get", { token: ADMIN, input: { id } })).text).result.data.task,
    ).toMatchObject({ status: "ready" });
    // Removed from config.json: refused at the next request like any other token.
    writeConfig(home, { tenant_tokens: { [ACME]: "acme" } });
    expect((await call(server.url, "tasks.list", { token: HOST })).status).toBe(401);
    expect(JSON.stringify(logger.lines)).not.toContain(HOST);
  });
});
