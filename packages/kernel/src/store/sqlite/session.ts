import type Database from "better-sqlite3";
import { writeTxn } from "@kanban/db";
import { type Clock, nowSeconds } from "../../clock.ts";
import { type ColumnIndex, columnIndex, taskFromValues } from "../../rows.ts";
import type { Task } from "../../types.ts";

/**
 * One open SQLite connection as the store sees it: the statement caches, the write transaction and
 * the clock (every stored timestamp comes from it). Store functions take it first
 * (`getTask(ctx, id)`); `BoardContext` extends it with the board's ports and policy.
 */
export class SqlSession {
  private readonly statements = new Map<string, Database.Statement>();
  private readonly taskStatements = new Map<string, { stmt: Database.Statement; columns: ColumnIndex }>();

  constructor(
    readonly sqlite: Database.Database,
    readonly clock: Clock,
  ) {}

  /** The injected clock in whole seconds, as every timestamp column stores it. */
  now(): number {
    return nowSeconds(this.clock);
  }

  /** The statement for `sql`, prepared once per connection: hot paths must not re-parse SQL. */
  stmt(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.sqlite.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  /**
   * Outermost write transactions begun on this session (a savepoint inside one does not count): the
   * bench reports how many a claim with its workspace costs. One integer add; never read by the product.
   */
  transactionsBegun = 0;

  /** One write transaction (`BEGIN IMMEDIATE`); nests as a savepoint when already inside one. */
  tx<T>(fn: () => T): T {
    if (!this.sqlite.inTransaction) this.transactionsBegun++;
    return writeTxn(this.sqlite, fn);
  }

  private taskStmt(sql: string): { stmt: Database.Statement; columns: ColumnIndex } {
    let s = this.taskStatements.get(sql);
    if (!s) {
      const stmt = this.sqlite.prepare(sql).raw(true);
      s = { stmt, columns: columnIndex(stmt) };
      this.taskStatements.set(sql, s);
    }
    return s;
  }

  /**
   * Runs a statement whose columns are a `tasks` row (`SELECT *`, `t.*`, `RETURNING *`; a later
   * column of the same name wins) and returns the rows as tasks. Rows are read as arrays: see
   * taskFromValues for why.
   */
  tasks(sql: string, ...args: unknown[]): Task[] {
    const { stmt, columns } = this.taskStmt(sql);
    return (stmt.all(...args) as unknown[][]).map((values) => taskFromValues(columns, values));
  }

  /** The first row of {@link tasks}, or null. Also runs a write with `RETURNING *`. */
  task(sql: string, ...args: unknown[]): Task | null {
    const { stmt, columns } = this.taskStmt(sql);
    const values = stmt.get(...args) as unknown[] | undefined;
    return values === undefined ? null : taskFromValues(columns, values);
  }
}

/** What every store function takes first: the connection and its caches (a `BoardContext` is one). */
export type SqlContext = SqlSession;
