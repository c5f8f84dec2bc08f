import fs from "node:fs";
import path from "node:path";
import { DB_ERROR_CODES, KanbanDbError } from "@kanban/db";
import { HallucinatedCardsError, KERNEL_ERROR_CODES, KernelError } from "@kanban/kernel";
import { TRPCError } from "@trpc/server";
import { boardInternals } from "@kanban/kernel/testing";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { DB_ERROR_TO_TRPC, INTERNAL_MESSAGE, KERNEL_ERROR_TO_TRPC, toTRPCError } from "./errors.ts";
import { startServer } from "./server.ts";
import { captureLogger, createTestApi } from "./testing.ts";

describe("the error table", () => {
  it("maps every kernel and db code (a new code fails here until it is mapped)", () => {
    expect(Object.keys(KERNEL_ERROR_TO_TRPC).sort()).toEqual([...KERNEL_ERROR_CODES].sort());
    expect(Object.keys(DB_ERROR_TO_TRPC).sort()).toEqual([...DB_ERROR_CODES].sort());
    expect(KERNEL_ERROR_TO_TRPC).toEqual({
      NOT_FOUND: "NOT_FOUND",
      INVALID_INPUT: "BAD_REQUEST",
      WRONG_STATE: "CONFLICT",
      STALE_RUN: "CONFLICT",
      HALLUCINATED_CARDS: "PRECONDITION_FAILED",
      WORKSPACE_PATH_NOT_ALLOWED: "BAD_REQUEST",
    });
    expect(DB_ERROR_TO_TRPC).toEqual({
      BOARD_NOT_FOUND: "NOT_FOUND",
      BOARD_INVALID: "BAD_REQUEST",
      DB_PATH_INVALID: "BAD_REQUEST",
      DB_NOT_A_DATABASE: "PRECONDITION_FAILED",
      DB_CORRUPT: "PRECONDITION_FAILED",
      DB_UNAVAILABLE: "SERVICE_UNAVAILABLE",
      DB_BUSY: "SERVICE_UNAVAILABLE",
      CONFIG_INVALID: "SERVICE_UNAVAILABLE",
      DB_URL_INVALID: "SERVICE_UNAVAILABLE",
      DB_UNREACHABLE: "SERVICE_UNAVAILABLE",
      DB_AUTH_FAILED: "SERVICE_UNAVAILABLE",
      DB_NOT_FOUND: "SERVICE_UNAVAILABLE",
    });
  });

  it("keeps the kernel's message and error as cause, also when tRPC wrapped it", () => {
    const kernel = new KernelError("WRONG_STATE", "cannot do that");
    const wrapped = new TRPCError({ code: "INTERNAL_SERVER_ERROR", cause: kernel });
    for (const input of [kernel, wrapped]) {
      const out = toTRPCError(input);
      expect(out).toMatchObject({ code: "CONFLICT", message: "cannot do that" });
      expect(out.cause).toBe(kernel);
    }
    expect(toTRPCError(new HallucinatedCardsError(["t_x"], "t_y")).code).toBe("PRECONDITION_FAILED");
    expect(toTRPCError(new KanbanDbError("DB_UNAVAILABLE", "read-only")).code).toBe("SERVICE_UNAVAILABLE");
    expect(toTRPCError(z.string().safeParse(1).error).code).toBe("BAD_REQUEST");
  });

  it("passes deliberate TRPCErrors through", () => {
    const forbidden = new TRPCError({ code: "FORBIDDEN", message: "no" });
    expect(toTRPCError(forbidden)).toBe(forbidden);
  });

  it("turns anything else into a generic 500 and logs the real error", () => {
    const logger = captureLogger();
    const out = toTRPCError(new Error("SQLITE_ERROR: no such table secrets"), logger, "x.y");
    expect(out).toMatchObject({ code: "INTERNAL_SERVER_ERROR", message: INTERNAL_MESSAGE });
    expect(out.cause).toBeUndefined();
    expect(logger.lines[0]).toMatchObject({
      level: "error",
      fields: { where: "x.y", error: "SQLITE_ERROR: no such table secrets" },
    });
  });
});

describe("a bug inside a procedure", () => {
  it("reaches the caller as a generic INTERNAL_SERVER_ERROR and the log as the real error", async () => {
    const t = createTestApi();
    try {
      const { task } = await t.api.tasks.create({ title: "t" });
      boardInternals(t.board()).sqlite.exec("DROP TABLE task_comments");
      const err = await t.api.comments.list({ task_id: task.id }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TRPCError);
      expect(err).toMatchObject({ code: "INTERNAL_SERVER_ERROR", message: INTERNAL_MESSAGE });
      expect(t.logger.lines.find((l) => l.level === "error")).toMatchObject({
        fields: { where: "comments.list", error: expect.stringContaining("task_comments") },
      });
    } finally {
      await t.cleanup();
    }
  });
});

describe("db errors and server paths", () => {
  it("a tenant reads a path-free message over HTTP; the admin reads the path; the log keeps it", async () => {
    const ADMIN = "admin-token-0123456789abcdef";
    const ACME = "acme-token-0123456789abcdef";
    const t = createTestApi();
    const logger = captureLogger();
    // A board whose database file is a directory: opening it fails with DB_PATH_INVALID naming the path.
    fs.mkdirSync(path.join(t.dir, "kanban", "boards", "broken", "kanban.db"), { recursive: true });
    const server = await startServer({
      port: 0,
      location: t.location,
      logger,
      token: ADMIN,
      tenantTokens: { [ACME]: "acme" },
      terminate: () => {},
    });
    try {
      const get = async (token: string) => {
        const res = await fetch(
          `${server.url}/trpc/stats.get?input=${encodeURIComponent(JSON.stringify({ board: "broken" }))}`,
          {
            headers: { authorization: `Bearer ${token}` },
          },
        );
        return { status: res.status, text: await res.text() };
      };
      const tenant = await get(ACME);
      expect(tenant.status).toBe(400);
      expect(tenant.text).not.toContain(t.dir);
      expect(tenant.text).not.toContain("/kanban.db");
      expect(JSON.parse(tenant.text).error.data).toMatchObject({ kanbanCode: "DB_PATH_INVALID", details: null });
      const admin = await get(ADMIN);
      expect(admin.status).toBe(400);
      expect(admin.text).toContain(path.join(t.dir, "kanban", "boards", "broken", "kanban.db"));
      expect(JSON.stringify(logger.lines)).toContain(path.join(t.dir, "kanban", "boards", "broken"));
    } finally {
      await server.close();
      await t.cleanup();
    }
  });

  it("a message without a fixed wording loses its absolute paths for non-admin callers", async () => {
    const t = createTestApi();
    try {
      const err = new KanbanDbError(
        "BOARD_INVALID",
        `cannot archive board at ${path.join(t.dir, "kanban", "boards", "x")}: busy`,
        { path: t.dir },
      );
      expect(toTRPCError(err, undefined, "x", { revealPaths: false })).toMatchObject({
        code: "BAD_REQUEST",
        message: "cannot archive board at <path>: busy",
      });
      expect(toTRPCError(err, undefined, "x", { revealPaths: false }).cause).toMatchObject({
        code: "BOARD_INVALID",
        details: {},
      });
      expect(toTRPCError(err, undefined, "x", { revealPaths: true }).message).toContain(t.dir);
      // Without saying who asks (a live stream's error, say), the safe form is the default.
      expect(toTRPCError(err).message).not.toContain(t.dir);
    } finally {
      await t.cleanup();
    }
  });
});

describe("bare SQLite failures", () => {
  it("answers a corrupt page with DB_CORRUPT (412) and storage that refuses with DB_UNAVAILABLE (503), never a 500", () => {
    // What better-sqlite3 throws: an Error with SQLite's extended result code as `code`.
    const sqliteError = (code: string, message: string) => Object.assign(new Error(message), { code });
    expect(toTRPCError(sqliteError("SQLITE_CORRUPT", "database disk image is malformed")).code).toBe(
      "PRECONDITION_FAILED",
    );
    expect(toTRPCError(sqliteError("SQLITE_READONLY", "attempt to write a readonly database")).code).toBe(
      "SERVICE_UNAVAILABLE",
    );
    expect(toTRPCError(sqliteError("SQLITE_IOERR_WRITE", "disk I/O error")).code).toBe("SERVICE_UNAVAILABLE");
    expect(toTRPCError(sqliteError("SQLITE_ERROR", "no such table: x")).code).toBe("INTERNAL_SERVER_ERROR");
  });
});
