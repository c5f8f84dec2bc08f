import { boardSchemaName, type KanbanPostgres, migrateBoardSchema, normaliseSlug, openPostgres } from "@kanban/db";
import { Board, type OpenBoardOptions } from "./board.ts";
import { systemClock } from "./clock.ts";
import { randomIds } from "./ids.ts";
import { PgSession } from "./store/pg/session.ts";

/** Options of a board on PostgreSQL: the URL and board, then the same ports and policy as `openBoard`. */
export interface OpenPgBoardOptions
  extends Pick<
    OpenBoardOptions,
    | "clock"
    | "ids"
    | "isPidAlive"
    | "hostname"
    | "pid"
    | "claimTtlSeconds"
    | "failureLimit"
    | "defaultWorkdir"
    | "diagnosticsPolicy"
    | "onDiagnosticsRun"
    | "warn"
  > {
  /** `postgres://user:password@host:port/database`. Never logged; errors name only host:port/database. */
  url: string;
  /** The board's slug (default `default`): its rows live in schema `kanban_<slug>`. */
  board?: string;
  /** Connections this board may hold at most (default 4): one per open transaction, plus reads. */
  poolSize?: number;
  /** How long a write waits for the board's writer lock before DB_BUSY (default 30 s, SQLite's busy_timeout). */
  lockTimeoutMs?: number;
  /** Shown in pg_stat_activity (default `kanban`). */
  applicationName?: string;
  /**
   * At most one live-event notification per this many ms from this board object (default 25; see
   * store/pg/event-announcer.ts). Tests set it long to see the coalescing.
   * @internal
   */
  announceGapMs?: number;
}

/**
 * Opens (creating and migrating when needed) one board in a PostgreSQL database. Many boards share
 * a database, one schema each; see the root README ("PostgreSQL") for why a schema and not a board
 * column. A bad URL, an unreachable server or a wrong password rejects with one typed, password-free
 * KanbanDbError, and no connection is left open.
 */
export async function openPgBoard(opts: OpenPgBoardOptions): Promise<Board> {
  const board = pgBoard(opts);
  try {
    await (boardSession(board) as PgSession).ready;
  } catch (err) {
    // Rejects only once the pool is closed: nothing of the failed open is left behind.
    await board.close();
    throw err;
  }
  return board;
}

/**
 * The board at once, its connection still being made (`openPgBoard` waits for it): every call waits
 * for the connection, and fails with its error if it cannot be made. For tests that make boards
 * synchronously; products use `openPgBoard`.
 */
export function pgBoard(opts: OpenPgBoardOptions): Board {
  const slug = normaliseSlug(opts.board ?? "default");
  const schema = boardSchemaName(slug);
  const connecting = (async () => {
    const db = await openPostgres(opts.url, {
      poolSize: opts.poolSize,
      applicationName: opts.applicationName,
      warn: opts.warn,
      searchPath: schema,
    });
    try {
      await migrateBoardSchema(db, slug);
    } catch (err) {
      await db.close();
      throw err;
    }
    return db;
  })();
  return boardOn(connecting, slug, opts, async () => {
    const db = await connecting.catch(() => null);
    await db?.close();
  });
}

/**
 * A board on connections someone else owns: `db`'s connections must already resolve names in the
 * board's schema (`searchPath`), migrated; closing the board leaves them open. The kernel's test
 * boards use it to keep one pool across the tests of a file.
 * @internal
 */
export function pgBoardOn(db: Promise<KanbanPostgres>, opts: Omit<OpenPgBoardOptions, "url">): Board {
  return boardOn(db, normaliseSlug(opts.board ?? "default"), opts, () => {});
}

function boardOn(
  connecting: Promise<KanbanPostgres>,
  slug: string,
  opts: Omit<OpenPgBoardOptions, "url">,
  close: () => void | Promise<void>,
): Board {
  const schema = boardSchemaName(slug);
  const clock = opts.clock ?? systemClock;
  const session = new PgSession(connecting, clock, schema, opts.lockTimeoutMs, opts.announceGapMs);
  let label = "postgres";
  void connecting.then(
    (db) => {
      label = `postgres://${db.target.label}#${schema}`;
    },
    () => {},
  );
  return new Board(
    {
      get path() {
        return label;
      },
      session,
      close,
    },
    {
      slug,
      ids: opts.ids ?? randomIds,
      isPidAlive: opts.isPidAlive,
      hostname: opts.hostname,
      pid: opts.pid,
      claimTtlSeconds: opts.claimTtlSeconds,
      failureLimit: opts.failureLimit,
      defaultWorkdir: opts.defaultWorkdir ?? null,
      diagnosticsPolicy: opts.diagnosticsPolicy,
      onDiagnosticsRun: opts.onDiagnosticsRun,
    },
  );
}

/** The engine session behind a board (the Board keeps its context private). */
function boardSession(board: Board) {
  return board["ctx"].session;
}
