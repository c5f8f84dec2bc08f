import type Database from "better-sqlite3";
import type { Board } from "../board.ts";
import type { BoardContext } from "../context.ts";
import { SqliteSession } from "../store/sqlite/session.ts";

/** What a test may reach behind a Board: the kernel's context and the raw SQLite connection. */
export interface BoardInternals {
  /** The context every verb and store function takes (statement cache, transactions, clock). */
  ctx: BoardContext;
  /** The board file's connection, for seeding states no verb produces and for checking rows. */
  sqlite: Database.Database;
}

/**
 * The connection behind `board`, for tests and benchmarks only. A Board keeps its context private so
 * that nothing in the product reaches the database except through the kernel's store; this is the one
 * sanctioned way around that, and it lives in `@kanban/kernel/testing`, never in the package's main
 * entry point.
 */
export function boardInternals(board: Board): BoardInternals {
  // Element access reaches a private member by design: TypeScript allows it as an escape hatch.
  const ctx = board["ctx"];
  return {
    ctx,
    // A getter: a PostgreSQL board has no SQLite connection, and a test of one must use `ctx`.
    get sqlite(): Database.Database {
      if (!(ctx.session instanceof SqliteSession)) throw new Error("boardInternals(board).sqlite: not an SQLite board");
      return ctx.session.sqlite;
    },
  };
}

/**
 * Raw SQL on a board's own connection, for tests that seed states no verb produces and check rows,
 * on either engine (the SQL is the store's dialect: SQLite's, translated on PostgreSQL). Each call is
 * its own write transaction, so it sees every committed row and its writes are committed on return.
 */
export interface RawSql {
  get<R = Record<string, unknown>>(sql: string, ...args: unknown[]): Promise<R | undefined>;
  all<R = Record<string, unknown>>(sql: string, ...args: unknown[]): Promise<R[]>;
  run(sql: string, ...args: unknown[]): Promise<{ changes: number }>;
}

export function rawSql(board: Board): RawSql {
  const { ctx } = boardInternals(board);
  return {
    get: async <R>(sql: string, ...args: unknown[]) => (await ctx.tx(() => ctx.get(sql, ...args))) as R | undefined,
    all: async <R>(sql: string, ...args: unknown[]) => (await ctx.tx(() => ctx.all(sql, ...args))) as R[],
    run: async (sql: string, ...args: unknown[]) => await ctx.tx(() => ctx.run(sql, ...args)),
  };
}
