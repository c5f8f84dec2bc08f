import type Database from "better-sqlite3";
import { KanbanDbError, savepointAsync, writeTxnAsync } from "@kanban/db";
import { type Clock, nowSeconds } from "../../clock.ts";
import { type ColumnIndex, columnIndex, taskFromValues } from "../../rows.ts";
import type { Task } from "../../types.ts";
import type { SqlRun, SqlSessionHandle } from "../port.ts";
import { TransactionContext } from "../transaction-context.ts";

type Cached = { stmt: Database.Statement; columns: ColumnIndex };

/** The statement caches of one connection: hot paths must not re-parse SQL. */
class Prepared {
  readonly statements = new Map<string, Database.Statement>();
  readonly taskStatements = new Map<string, Cached>();
  constructor(readonly sqlite: Database.Database) {}

  stmt(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.sqlite.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  taskStmt(sql: string): Cached {
    let s = this.taskStatements.get(sql);
    if (!s) {
      const stmt = this.sqlite.prepare(sql).raw(true);
      s = { stmt, columns: columnIndex(stmt) };
      this.taskStatements.set(sql, s);
    }
    return s;
  }
}

/**
 * The transaction the current async call chain is inside (if any). A timer or callback started
 * inside a transaction inherits this context and may run after the transaction has ended, so the
 * token says whether it is still open: a closed one counts as outside.
 */
interface TxToken {
  session: SqliteSession;
  open: boolean;
  /** The tail of this transaction's own queue of nested calls (see `tx`), null when none is running. */
  nested: Promise<unknown> | null;
}
/** Process-wide, shared by every SQLite session (see ../transaction-context.ts). */
const inside = new TransactionContext<TxToken>();

/** Whether the transactions' async context is being tracked now (for the session's tests). */
export function transactionContextTracked(): boolean {
  return inside.tracked;
}

/**
 * One open SQLite board as the store sees it: a write connection, a read connection, their
 * statement caches, the transaction queue and the clock (every stored timestamp comes from it).
 * Store functions take it first (`getTask(ctx, id)`); `BoardContext` extends it with the board's
 * ports and policy.
 *
 * Store functions are async, so several callers of one board interleave at their awaits. Two rules
 * keep that safe. Transactions are queued: one runs at a time on the write connection, and a
 * caller's statements inside its own transaction (known through AsyncLocalStorage, so a verb called
 * from inside another verb's transaction nests as a savepoint) use that connection. A statement
 * issued while another caller's transaction is open goes to the read connection, so it never sees
 * that transaction's uncommitted rows; in WAL mode it never waits for it either.
 *
 * Every write pays for this machinery, so it is kept lean: no transaction open means no context
 * lookup and reads on the writer's warm cache, AsyncLocalStorage is disabled while no transaction
 * of the process is open, a transaction on an idle board begins synchronously (no promise hop
 * before its BEGIN, see writeTxnAsync), and the next queued one starts as the previous settles.
 */
export class SqliteSession implements SqlSessionHandle {
  readonly dialect = "sqlite" as const;
  private readonly writer: Prepared;
  private readonly reader: Prepared;
  /** The outermost transaction running (or waiting for the lock) now; null when the board is idle. */
  private running: TxToken | null = null;
  /** Transactions waiting for the running one, oldest first. */
  private readonly waiting: (() => void)[] = [];
  /** Savepoint names only ever grow: two savepoints alive at once must never share a name. */
  private savepoints = 0;
  /** Transactions queued or running, so that `close` can wait for them. */
  private active = 0;
  private closing = false;
  private closed = false;
  /** Set by the first `close`: resolves once the connections are closed. */
  private closedAll: Promise<void> | null = null;
  /** Set by `close` while transactions are still active: runs when the last one settles. */
  private whenIdle: (() => void) | null = null;

  constructor(
    readonly sqlite: Database.Database,
    readonly clock: Clock,
    /** A second connection to the same file for reads outside a transaction (the writer when absent). */
    readerConnection?: Database.Database,
  ) {
    this.writer = new Prepared(sqlite);
    this.reader = readerConnection ? new Prepared(readerConnection) : this.writer;
  }

  /** The injected clock in whole seconds, as every timestamp column stores it. */
  now(): number {
    return nowSeconds(this.clock);
  }

  /** Whether the current call chain is inside this session's open transaction. */
  get inTransaction(): boolean {
    // No transaction running: nobody can be inside one (and the context lookup is skipped).
    if (this.running === null) return false;
    const t = inside.current();
    return t?.open === true && t.session === this;
  }

  /**
   * The connection a statement of the current call chain runs on. Inside the caller's own
   * transaction: the writer. While another caller's transaction is open: the reader, which never
   * sees that transaction's rows. With no transaction running at all, the writer too: it has no
   * transaction open that a read could see into (a queued one begins only from `tx`, never in the
   * middle of a synchronous statement), and its page cache is the warm one: the reader's is
   * dropped by every commit of the writer, and reading it back cost a claim+complete cycle about
   * as much as the rest of the async store's overhead (tooling/bench, async-compare).
   */
  private get current(): Prepared {
    if (this.closed) throw closedError();
    if (this.running === null) return this.writer;
    const t = inside.current();
    return t?.open === true && t.session === this ? this.writer : this.reader;
  }

  /** The statement for `sql` on the connection the caller should use (see `current`). */
  stmt(sql: string): Database.Statement {
    return this.current.stmt(sql);
  }

  get(sql: string, ...args: unknown[]): unknown {
    return this.current.stmt(sql).get(...args);
  }

  all(sql: string, ...args: unknown[]): unknown[] {
    return this.current.stmt(sql).all(...args);
  }

  run(sql: string, ...args: unknown[]): SqlRun {
    return this.current.stmt(sql).run(...args);
  }

  insert(sql: string, ...args: unknown[]): number {
    return Number(this.current.stmt(sql).run(...args).lastInsertRowid);
  }

  /**
   * Closes the session once its queued and running transactions have settled (they finish as if
   * nothing happened; a request in flight while its board is evicted must not fail halfway).
   * New transactions are refused at once, reads once the connections are gone, both with
   * DB_UNAVAILABLE instead of better-sqlite3's "connection is not open".
   */
  close(closeConnections: () => void): Promise<void> {
    if (this.closedAll !== null) return this.closedAll;
    this.closing = true;
    this.closedAll = new Promise<void>((resolve) => {
      const finish = () => {
        this.closed = true;
        try {
          closeConnections();
        } finally {
          resolve();
        }
      };
      if (this.active === 0) finish();
      else this.whenIdle = finish;
    });
    return this.closedAll;
  }

  /**
   * Outermost write transactions begun on this session (a savepoint inside one does not count): the
   * bench reports how many a claim with its workspace costs. One integer add; never read by the product.
   */
  transactionsBegun = 0;

  /**
   * One write transaction (`BEGIN IMMEDIATE`), queued behind this board's other transactions; nests
   * as a savepoint when the caller is already inside one.
   */
  tx<T>(fn: () => Promise<T> | T): Promise<T> {
    const token = this.running === null ? undefined : inside.current();
    if (token?.open === true && token.session === this) return this.nest(token, fn);
    if (this.closing) return Promise.reject(closedError());
    this.active++;
    if (this.running === null) return this.begin(fn);
    return new Promise<T>((resolve, reject) => {
      this.waiting.push(() => {
        this.begin(fn).then(resolve, reject);
      });
    });
  }

  /** Starts an outermost transaction now; the board is idle (nothing running, nobody waiting before it). */
  private begin<T>(fn: () => Promise<T> | T): Promise<T> {
    this.transactionsBegun++;
    inside.began();
    const own: TxToken = { session: this, open: true, nested: null };
    this.running = own;
    const result = writeTxnAsync(this.sqlite, () => inside.run(own, fn));
    // Attached first, so it runs before the caller's continuation: a caller that starts its next
    // transaction at once finds the board idle and begins it synchronously.
    result.then(
      () => this.settled(own),
      () => this.settled(own),
    );
    return result;
  }

  /** The running transaction has committed or rolled back: start the next one, or finish a close. */
  private settled(own: TxToken): void {
    own.open = false;
    this.running = null;
    this.active--;
    const next = this.waiting.shift();
    // The next transaction begins (synchronously) before this one counts as ended, so a queue of
    // them never schedules the context's disabling in between.
    if (next !== undefined) next();
    inside.ended();
    if (next === undefined && this.active === 0 && this.whenIdle !== null) {
      const finish = this.whenIdle;
      this.whenIdle = null;
      finish();
    }
  }

  /**
   * A transaction inside the caller's own: a savepoint. Verbs started together inside one
   * transaction (Promise.all over them) run one after another, each in its own savepoint:
   * interleaved savepoints would undo each other's writes. Each savepoint runs under a token of its
   * own, so a verb it calls nests one level deeper instead of queueing behind it.
   */
  private nest<T>(token: TxToken, fn: () => Promise<T> | T): Promise<T> {
    const level: TxToken = { session: this, open: true, nested: null };
    const start = () => savepointAsync(this.sqlite, `kanban_nested_${++this.savepoints}`, () => inside.run(level, fn));
    const nested = (token.nested === null ? start() : token.nested.then(start)).finally(() => {
      level.open = false;
    });
    const tail = nested.catch(() => {});
    token.nested = tail;
    // Back to "none running" once this one is the last, so the next one starts without a hop.
    void tail.then(() => {
      if (token.nested === tail) token.nested = null;
    });
    return nested;
  }

  /**
   * Runs a statement whose columns are a `tasks` row (`SELECT *`, `t.*`, `RETURNING *`; a later
   * column of the same name wins) and returns the rows as tasks. Rows are read as arrays: see
   * taskFromValues for why.
   */
  tasks(sql: string, ...args: unknown[]): Task[] {
    const { stmt, columns } = this.current.taskStmt(sql);
    return (stmt.all(...args) as unknown[][]).map((values) => taskFromValues(columns, values));
  }

  /** The first row of {@link tasks}, or null. Also runs a write with `RETURNING *`. */
  task(sql: string, ...args: unknown[]): Task | null {
    const { stmt, columns } = this.current.taskStmt(sql);
    const values = stmt.get(...args) as unknown[] | undefined;
    return values === undefined ? null : taskFromValues(columns, values);
  }
}

function closedError(): KanbanDbError {
  return new KanbanDbError("DB_UNAVAILABLE", "the board was closed (removed, archived or reopened); try again");
}

export type { SqlContext } from "../port.ts";
/** The name the store's own tests knew it by. */
export { SqliteSession as SqlSession };
