import fs from "node:fs";
import path from "node:path";
import {
  type BoardLocation,
  boardDbPath,
  DEFAULT_BOARD,
  databaseLabel,
  type KanbanPostgres,
  KanbanDbError,
  listBoards,
  normaliseSlug,
} from "@kanban/db";
import { type Board, listPgBoards, type OpenBoardOptions, openBoard, openPgBoard } from "@kanban/kernel";

/** A board one tick covers: its slug, and where its rows are (a file, or a password-free PostgreSQL label). */
export interface Target {
  slug: string;
  dbPath: string;
}

/** The ports and policy every board is opened with (read at each open: config.json may have changed). */
export type BoardPorts = Pick<
  OpenBoardOptions,
  "clock" | "isPidAlive" | "hostname" | "pid" | "claimTtlSeconds" | "failureLimit" | "warn"
>;

/**
 * The boards a dispatcher serves and how it opens them, per engine. The dispatcher's policy (which
 * board to tick, budgets, recovery) does not depend on where the rows are; this does.
 */
export interface BoardSet {
  readonly engine: "sqlite" | "postgres";
  /** The boards one loop tick covers. */
  list(): Promise<Target[]>;
  /** The board of a `--once` tick; throws BOARD_NOT_FOUND for a board that does not exist. */
  target(slug: string): Promise<Target>;
  open(t: Target): Promise<Board>;
  /** The caller is done with `board` for now (SQLite closes it; a PostgreSQL board keeps its pool). */
  done(board: Board): void;
  /** Closes every board still open; resolves once their connections are closed. */
  close(): Promise<void>;
}

/**
 * SQLite: every live board of the home (or the `KANBAN_DB` file alone). Each board stays open between
 * ticks: reopening one costs two connections, their PRAGMAs and every prepared statement again, which
 * at five ticks a second was most of a dispatcher's CPU. A board is reopened when the file at its path
 * is no longer the one we opened (restored, copied over, removed and made again) or its claim TTL
 * changed in config.json, and closed once it leaves the listing (archived or removed), so a board
 * removed on disk is never held for longer than one tick.
 */
export class SqliteBoardSet implements BoardSet {
  readonly engine = "sqlite" as const;
  /** Boards kept open between ticks, by file path: which file it was, and the TTL it was opened with. */
  private readonly open_ = new Map<string, { board: Board; identity: string; claimTtl: number | undefined }>();

  constructor(
    private readonly location: BoardLocation,
    private readonly pinnedDb: string | null,
    private readonly current: () => string,
    private readonly ports: () => BoardPorts,
  ) {}

  async list(): Promise<Target[]> {
    const out = this.listed();
    const live = new Set(out.map((t) => t.dbPath));
    for (const [dbPath, entry] of this.open_) {
      if (live.has(dbPath)) continue;
      this.open_.delete(dbPath);
      entry.board.close();
    }
    return out;
  }

  private listed(): Target[] {
    if (this.pinnedDb !== null) return [{ slug: this.current(), dbPath: path.resolve(this.pinnedDb) }];
    const seen = new Set<string>();
    const out: Target[] = [];
    for (const meta of listBoards(this.location, { includeArchived: false })) {
      const resolved = path.resolve(meta.db_path);
      if (seen.has(resolved)) continue;
      seen.add(resolved);
      out.push({ slug: meta.slug, dbPath: resolved });
    }
    return out;
  }

  async target(slug: string): Promise<Target> {
    return { slug, dbPath: path.resolve(boardDbPath(this.location, slug)) };
  }

  async open(t: Target): Promise<Board> {
    const ports = this.ports();
    const identity = fileIdentity(t.dbPath);
    const cached = this.open_.get(t.dbPath);
    if (cached !== undefined) {
      if (identity !== null && cached.identity === identity && cached.claimTtl === ports.claimTtlSeconds)
        return cached.board;
      this.open_.delete(t.dbPath);
      cached.board.close();
    }
    const board = openBoard({ board: t.slug, location: this.location, ...ports });
    // Taken after the open, which may have made the file.
    const opened = fileIdentity(t.dbPath);
    if (opened !== null) this.open_.set(t.dbPath, { board, identity: opened, claimTtl: ports.claimTtlSeconds });
    return board;
  }

  done(board: Board): void {
    // A board that could not be kept (its file vanished under the open) is closed after its pass.
    for (const entry of this.open_.values()) if (entry.board === board) return;
    board.close();
  }

  async close(): Promise<void> {
    const closing = [...this.open_.values()].map(({ board }) => board.close());
    this.open_.clear();
    await Promise.all(closing);
  }

  /** How many boards are held open between ticks. */
  get openCount(): number {
    return this.open_.size;
  }
}

/** Which file is at `p` now (device and inode), or null when there is none. */
function fileIdentity(p: string): string | null {
  const st = fs.statSync(p, { throwIfNoEntry: false });
  return st === undefined ? null : `${st.dev}:${st.ino}`;
}

/** Connections each PostgreSQL board's pool may hold: a tick runs one kernel call at a time; a transaction plus a read. */
export const DISPATCHER_PG_POOL_SIZE = 2;

/**
 * PostgreSQL: every board schema of the database (`listPgBoards`), whoever made it and on whichever
 * host: the home's board.json files are host-local. One Board (one small pool) per slug for the
 * process's life, not one per tick: opening a pool is a TCP and TLS handshake, authentication and a
 * migration check. A board whose schema is gone is closed at the next listing; one whose claim TTL
 * changed in config.json is reopened (a Board takes its TTL when it is opened).
 */
export class PgBoardSet implements BoardSet {
  readonly engine = "postgres" as const;
  private readonly open_ = new Map<string, { board: Board; claimTtl: number | undefined }>();
  /** Opens under way, so two callers of one slug share a pool instead of opening two. */
  private readonly opening = new Map<string, Promise<Board>>();

  constructor(
    /** Secret (it may carry a password): handed to the driver, never printed (see `databaseLabel`). */
    private readonly url: string,
    /** A connection for catalog reads (the coordination's status connection). */
    private readonly catalog: KanbanPostgres,
    private readonly ports: () => BoardPorts,
  ) {}

  private targetOf(slug: string): Target {
    return { slug, dbPath: databaseLabel(this.url, slug) };
  }

  async list(): Promise<Target[]> {
    const slugs = await listPgBoards(this.catalog);
    const live = new Set(slugs);
    for (const [slug, entry] of this.open_) {
      if (live.has(slug)) continue;
      this.open_.delete(slug);
      entry.board.close();
    }
    return slugs.map((s) => this.targetOf(s));
  }

  async target(slug: string): Promise<Target> {
    const s = normaliseSlug(slug);
    // The default board always exists (its schema is made on first use, as the API does); another
    // one only once it was created: a typo in `--board` must not create a schema.
    if (s !== DEFAULT_BOARD && !(await listPgBoards(this.catalog)).includes(s)) {
      throw new KanbanDbError("BOARD_NOT_FOUND", `board '${s}' does not exist in ${databaseLabel(this.url)}`, {
        slug: s,
      });
    }
    return this.targetOf(s);
  }

  async open(t: Target): Promise<Board> {
    const ports = this.ports();
    const cached = this.open_.get(t.slug);
    if (cached !== undefined) {
      if (cached.claimTtl === ports.claimTtlSeconds) return cached.board;
      this.open_.delete(t.slug);
      cached.board.close();
    }
    const pending = this.opening.get(t.slug);
    if (pending !== undefined) return await pending;
    const opening = openPgBoard({
      url: this.url,
      board: t.slug,
      poolSize: DISPATCHER_PG_POOL_SIZE,
      applicationName: "kanban-dispatcher",
      ...ports,
    });
    this.opening.set(t.slug, opening);
    try {
      // A board that cannot be opened is not kept: the next tick tries again.
      const board = await opening;
      this.open_.set(t.slug, { board, claimTtl: ports.claimTtlSeconds });
      return board;
    } finally {
      this.opening.delete(t.slug);
    }
  }

  done(_board: Board): void {}

  async close(): Promise<void> {
    const closing = [...this.open_.values()].map(({ board }) => board.close());
    this.open_.clear();
    await Promise.all(closing);
  }

  /** How many board pools are open (each at most {@link DISPATCHER_PG_POOL_SIZE} connections). */
  get openCount(): number {
    return this.open_.size;
  }
}
