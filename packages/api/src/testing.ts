import fs from "node:fs";
import path from "node:path";
import { type BoardLocation, mintRunToken } from "@kanban/db";
import { makeTempDir } from "@kanban/db/testing";
import type { Termination } from "@kanban/kernel";
import { TestClock } from "@kanban/kernel/testing";
import { TRPCError } from "@trpc/server";
import { createKanbanClient, type KanbanClient } from "./client.ts";
import { createContextInner } from "./context.ts";
import { LiveHub } from "./live/hub.ts";
import type { Logger } from "./logger.ts";
import { BoardRegistry } from "./registry.ts";
import { testPgUrl, testStoreIsPostgres } from "./test/pg-store.ts";
import { createCaller } from "./root.ts";
import { type RunningServer, startServer } from "./server.ts";

export interface CapturedLog {
  level: "info" | "warn" | "error";
  message: string;
  fields?: Record<string, unknown>;
}

export function captureLogger(): Logger & { lines: CapturedLog[] } {
  const lines: CapturedLog[] = [];
  return {
    lines,
    info: (message, fields) => lines.push({ level: "info", message, fields }),
    warn: (message, fields) => lines.push({ level: "warn", message, fields }),
    error: (message, fields) => lines.push({ level: "error", message, fields }),
  };
}

/**
 * A throwaway KANBAN_HOME with a registry, a live hub and callers (admin or tenant-scoped), all on
 * real SQLite files and a TestClock. Workers "terminated" by the API are recorded, not signalled.
 */
export function createTestApi(opts: { config?: Record<string, unknown> } = {}) {
  const { dir, cleanup } = makeTempDir("kanban-api-");
  const location: BoardLocation = { home: dir };
  if (opts.config) fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify(opts.config));
  const clock = new TestClock();
  const logger = captureLogger();
  const boards = new BoardRegistry({
    location,
    clock,
    warn: () => {},
    hermesHome: path.join(dir, "hermes"),
    // Under the "postgres" project the same suites keep their boards in the test file's database.
    database: testStoreIsPostgres()
      ? { engine: "postgres", url: testPgUrl(), source: "KANBAN_DATABASE_URL" }
      : undefined,
  });
  const live = new LiveHub({ logger, intervalMs: 50 });
  const terminated: Termination[] = [];
  /** `signal` ends the caller's subscriptions (an in-process stream otherwise ends only when left). */
  const caller = (tenant: string | null = null, signal?: AbortSignal) =>
    // Hermes profiles are looked up in the temp home, never in the test runner's ~/.hermes.
    createCaller(
      createContextInner({
        location,
        tenant,
        boards,
        live,
        logger,
        terminate: (t) => terminated.push(t),
        hermesHome: path.join(dir, "hermes"),
      }),
      signal ? { signal } : undefined,
    );
  return {
    dir,
    location,
    clock,
    logger,
    boards,
    live,
    terminated,
    caller,
    api: caller(),
    board: (slug?: string) => boards.board(slug),
    writeConfig: (config: Record<string, unknown>) =>
      fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify(config)),
    /** Resolves once the boards' connections are closed (on PostgreSQL the file's database may be dropped next). */
    cleanup: async () => {
      live.close();
      await boards.close();
      cleanup();
    },
  };
}

export type TestApi = ReturnType<typeof createTestApi>;

/** Polls `cond` until it holds or `timeoutMs` passes (for cross-process and live-stream tests). */
export async function waitFor(cond: () => boolean, timeoutMs = 5000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The tRPC code of a call that must be rejected. */
export async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof TRPCError) return err.code;
    throw err;
  }
  throw new Error("expected the call to fail");
}

/** A real server behind an admin token, its home, and a client holding that token. */
export interface TokenServer {
  home: ReturnType<typeof makeTempDir>;
  server: RunningServer;
  admin: KanbanClient;
  /** A client holding the run token of `run` on `task` (what the dispatcher hands a worker). */
  asRun(task: string, run: number): KanbanClient;
  /** For `beforeAll`: starts the server (the fields above are set from then on). */
  start(): Promise<void>;
  /** For `afterAll`: stops it and removes its home. */
  stop(): Promise<void>;
}

/**
 * For tests of what a worker's run token may do: a real server with an admin token, started and
 * stopped by the suite (`beforeAll(s.start)`, `afterAll(s.stop)`).
 */
export function tokenServer(name: string): TokenServer {
  const token = `admin-token-${name}-0123456789abcdef`;
  const s = {} as TokenServer;
  s.start = async () => {
    s.home = makeTempDir(`kanban-${name}-api-`);
    s.server = await startServer({
      port: 0,
      location: { home: s.home.dir },
      logger: captureLogger(),
      token,
      tenantTokens: {},
      terminate: () => {},
    });
    s.admin = createKanbanClient({ url: `${s.server.url}/trpc`, token });
  };
  s.asRun = (task, run) =>
    createKanbanClient({
      url: `${s.server.url}/trpc`,
      token: mintRunToken(s.home.dir, { board: "default", task, run }),
    });
  s.stop = async () => {
    await s.server?.close();
    s.home?.cleanup();
  };
  return s;
}
