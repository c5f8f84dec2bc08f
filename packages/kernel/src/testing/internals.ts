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

/**
 * A real fault, for tests that a verb's writes are all-or-nothing: from now on the database itself
 * refuses every insert into `table` (only rows whose `where.column` equals `where.equals`, when
 * given), aborting the statement with an error whose message contains `message`. A trigger on either
 * engine: SQLite's `RAISE(ABORT)`, or a PL/pgSQL function raising an exception on PostgreSQL.
 */
export async function refuseInserts(
  board: Board,
  opts: { table: string; message: string; where?: { column: string; equals: string } },
): Promise<void> {
  const { ctx } = boardInternals(board);
  const literal = (s: string) => `'${s.replaceAll("'", "''")}'`;
  const name = `refuse_${opts.table}`;
  if (ctx.dialect === "sqlite") {
    const when = opts.where ? ` WHEN NEW.${opts.where.column} = ${literal(opts.where.equals)}` : "";
    await rawSql(board).run(
      `CREATE TRIGGER ${name} BEFORE INSERT ON ${opts.table}${when} BEGIN SELECT RAISE(ABORT, ${literal(opts.message)}); END`,
    );
    return;
  }
  const test = opts.where ? `NEW.${opts.where.column} = ${literal(opts.where.equals)}` : "true";
  const body = `BEGIN IF ${test} THEN RAISE EXCEPTION ${literal(opts.message)}; END IF; RETURN NEW; END`;
  await rawSql(board).run(`CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS ${literal(body)}`);
  await rawSql(board).run(
    `CREATE TRIGGER ${name} BEFORE INSERT ON ${opts.table} FOR EACH ROW EXECUTE FUNCTION ${name}()`,
  );
}
