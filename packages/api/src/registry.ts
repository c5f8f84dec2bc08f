import {
  type BoardLocation,
  boardDbPath,
  boardExists,
  currentBoard,
  DEFAULT_BOARD,
  type DatabaseTarget,
  databaseLabel,
  hermesHomeFromEnv,
  KanbanDbError,
  type KanbanPostgres,
  knownProfiles,
  normaliseSlug,
  openPostgres,
  readBoardMetadata,
  resolveDatabaseTarget,
} from "@kanban/db";
import {
  type Board,
  type Clock,
  listPgBoards,
  type OpenPgBoardOptions,
  openBoard,
  openPgBoard,
  type PidProbe,
  pgBoard,
  systemClock,
} from "@kanban/kernel";
import { processConfigReader } from "./config-reader.ts";

export interface BoardRegistryOptions {
  location: BoardLocation;
  clock?: Clock;
  isPidAlive?: PidProbe;
  /** Bundled hosts (Next) pass the migrations folder explicitly. */
  migrationsFolder?: string;
  warn?: (message: string) => void;
  /** Where Hermes profiles are looked up (as the request context does); default `HERMES_HOME` or `~/.hermes`. */
  hermesHome?: string;
  /** Told each time a board read runs the diagnostics engine (tests count runs per board refresh). */
  onDiagnosticsRun?: () => void;
  /**
   * Which engine the boards are on. Default: the one rule (`resolveDatabaseTarget`) applied to this
   * process's environment and the home's config.json, once, when the first board is opened.
   */
  database?: DatabaseTarget;
  /** PostgreSQL: the most connections one board's pool holds (default 4). */
  pgPoolSize?: number;
  /**
   * SQLite: `PRAGMA integrity_check` on a board's first open (default `true`). A short-lived process
   * (one CLI call) passes `"unless-recent"`: skipped while a check of the same file passed within the hour.
   */
  integrityCheck?: boolean | "unless-recent";
}

/** Connections per PostgreSQL board pool: a transaction holds one, reads share the rest. */
export const API_PG_POOL_SIZE = 4;

/**
 * The open boards of one process, one kernel `Board` (one SQLite connection, one statement cache;
 * or on PostgreSQL one small pool in the board's schema `kanban_<slug>`) per slug. Opening a board
 * runs its header/integrity/migration checks, so a request must never pay for that twice; boards
 * removed on disk are dropped on their next lookup.
 *
 * On PostgreSQL a board's rows live in the database and its metadata (name, project directory, that
 * it exists at all) in `<home>/kanban/boards/<slug>/board.json` as on SQLite: the `default` board
 * always exists, another one once `boards.create` made it (which also creates its schema).
 */
export class BoardRegistry {
  private readonly open = new Map<string, Board>();
  readonly location: BoardLocation;
  readonly clock: Clock;

  private target: DatabaseTarget | null;
  private targetError: unknown = null;
  /** PostgreSQL: the boards the database holds (its `kanban_<slug>` schemas), as last read. */
  private pgBoards = new Set<string>();
  /** PostgreSQL: one connection for catalog reads (which boards exist), opened on first use. */
  private catalog: Promise<KanbanPostgres> | null = null;
  private refreshing: Promise<void> | null = null;

  constructor(private readonly options: BoardRegistryOptions) {
    this.location = options.location;
    this.clock = options.clock ?? systemClock;
    this.target = options.database ?? null;
  }

  /** The engine and where (the URL stays in here: it may carry the password). Throws the rule's refusal. */
  private database(): DatabaseTarget {
    if (this.target === null && this.targetError === null) {
      try {
        this.target = resolveDatabaseTarget(process.env, this.location.home);
      } catch (err) {
        this.targetError = err;
      }
    }
    if (this.target === null) throw this.targetError;
    return this.target;
  }

  /** Which engine this process's boards are on. */
  get engine(): "sqlite" | "postgres" {
    return this.database().engine;
  }

  /**
   * Whether `slug` names a board: the default always; on SQLite another one when its file or
   * board.json is in the home; on PostgreSQL when the database holds its schema (as last read by
   * {@link refreshBoards}; whichever host made it), the home's board.json being only its metadata.
   */
  exists(slug: string): boolean {
    if (slug === DEFAULT_BOARD) return true;
    if (this.engine === "postgres") return this.pgBoards.has(slug);
    return !!this.location.dbOverride || boardExists(this.location, slug);
  }

  /**
   * PostgreSQL: the process's catalog connection (opened on first use, again after a failed open),
   * for reads about the database rather than one board: which boards exist, which dispatchers serve
   * them.
   */
  catalogDb(): Promise<KanbanPostgres> {
    const target = this.database();
    if (target.engine !== "postgres") return Promise.reject(new Error("catalogDb: the boards are not on PostgreSQL"));
    this.catalog ??= openPostgres(target.url, {
      poolSize: 1,
      applicationName: "kanban-api-catalog",
      warn: this.options.warn,
    }).catch((err: unknown) => {
      this.catalog = null;
      throw err;
    });
    return this.catalog;
  }

  /**
   * PostgreSQL: rereads which boards the database holds (servers: at start, every few seconds and
   * on `boards.list`; the CLI once per command). One read at a time; SQLite: nothing to do.
   */
  async refreshBoards(): Promise<void> {
    const target = this.database();
    if (target.engine !== "postgres") return;
    this.refreshing ??= (async () => {
      try {
        this.pgBoards = new Set(await listPgBoards(await this.catalogDb()));
      } finally {
        this.refreshing = null;
      }
    })();
    await this.refreshing;
  }

  /** The boards of this process's engine that are not in the home's metadata (PostgreSQL: made on another host). */
  databaseOnlyBoards(): string[] {
    if (this.engine !== "postgres") return [];
    return [...this.pgBoards].filter((s) => s !== DEFAULT_BOARD && !boardExists(this.location, s)).sort();
  }

  /** The slug a request means: the one it names (validated), else the current board. */
  resolveSlug(slug?: string | null): string {
    if (slug === undefined || slug === null || slug.trim() === "") {
      // KANBAN_BOARD names a board the database holds even when this host has no board.json for it.
      const env = this.location.envBoard;
      if (env !== undefined && this.engine === "postgres") {
        try {
          const s = normaliseSlug(env);
          if (this.exists(s)) return s;
        } catch {
          // A malformed value falls through, as currentBoard does.
        }
      }
      return currentBoard(this.location);
    }
    return normaliseSlug(slug);
  }

  /** Where a board's rows are, as it may be shown: the SQLite file, or `postgres://host:port/db#kanban_<slug>`. */
  dbPath(slug: string): string {
    const target = this.database();
    if (target.engine === "postgres") return databaseLabel(target.url, normaliseSlug(slug));
    return boardDbPath(this.location, slug);
  }

  /** The open board of `slug` (or the current board); BOARD_NOT_FOUND for a board that does not exist. */
  board(slug?: string | null): Board {
    const s = this.resolveSlug(slug);
    const cached = this.open.get(s);
    if (cached) {
      // Another process may have archived or deleted the board since it was opened.
      if (this.exists(s)) return cached;
      this.evict(s);
    }
    const target = this.database();
    if (target.engine === "postgres") return this.openPg(s, target.url);
    // The last valid settings while config.json is invalid: a typo there must not close the boards.
    const settings = processConfigReader(this.location.home).get().config.kanban;
    const board = openBoard({
      location: this.location,
      board: s,
      clock: this.clock,
      isPidAlive: this.options.isPidAlive,
      claimTtlSeconds: settings.claim_ttl_seconds,
      // The board's one breaker policy, asked each time a verb or a diagnostic judges a breaker:
      // config.json's `failure_limit` as it is then (the last valid one while the file is invalid),
      // so an edit counts at the next completion, recompute or read without reopening the board.
      failureLimit: () => processConfigReader(this.location.home).get().config.kanban.failure_limit,
      // The host's profiles as config.json names them at the read (unknown while it is invalid).
      diagnosticsPolicy: () => this.diagnosticsPolicy(),
      onDiagnosticsRun: this.options.onDiagnosticsRun,
      migrationsFolder: this.options.migrationsFolder,
      warn: this.options.warn,
      integrityCheck: this.options.integrityCheck,
    });
    this.withIncidentPolicy(board);
    this.open.set(s, board);
    return board;
  }

  /**
   * Incident folding's policy (config `kanban.incident_*`, issue 17), read at each use like the
   * failure limit: a remote host's exits are booked here, by the API, not by a dispatcher.
   */
  private withIncidentPolicy(board: Board): void {
    board.setIncidentPolicy(() => {
      const k = processConfigReader(this.location.home).get().config.kanban;
      return {
        threshold: k.incident_threshold,
        windowSeconds: k.incident_window_seconds,
        probeSeconds: k.incident_probe_seconds,
        probeMaxSeconds: k.incident_probe_max_seconds,
      };
    });
  }

  /**
   * A PostgreSQL board at once, its pool connecting in the background (every call waits for it). A
   * pool that could not connect is dropped, so the next request tries again instead of failing
   * forever; that first failure reaches its callers as the typed, password-free DB_* error.
   */
  private openPg(s: string, url: string): Board {
    const board = pgBoard(this.pgOptions(s, url));
    this.withIncidentPolicy(board);
    this.open.set(s, board);
    board.latestEventId().catch(() => {
      if (this.open.get(s) === board) this.evict(s);
    });
    return board;
  }

  /** What every PostgreSQL board of this registry is opened with (BOARD_NOT_FOUND for an unknown slug). */
  private pgOptions(s: string, url: string, create = false): OpenPgBoardOptions {
    if (!create && !this.exists(s)) {
      // Perhaps made by another host since the last read: the next request will know.
      void this.refreshBoards().catch(() => {});
      throw new KanbanDbError("BOARD_NOT_FOUND", `board '${s}' does not exist`, { slug: s });
    }
    const settings = processConfigReader(this.location.home).get().config.kanban;
    return {
      url,
      board: s,
      poolSize: this.options.pgPoolSize ?? API_PG_POOL_SIZE,
      applicationName: "kanban-api",
      clock: this.clock,
      isPidAlive: this.options.isPidAlive,
      claimTtlSeconds: settings.claim_ttl_seconds,
      failureLimit: () => processConfigReader(this.location.home).get().config.kanban.failure_limit,
      diagnosticsPolicy: () => this.diagnosticsPolicy(),
      onDiagnosticsRun: this.options.onDiagnosticsRun,
      defaultWorkdir: readBoardMetadata(this.location, s).default_workdir,
      warn: this.options.warn,
    };
  }

  /**
   * The board of `slug`, proven usable: on PostgreSQL its pool has connected and its schema is
   * migrated, else this rejects with the typed DB_* error (and nothing stays open). Servers await it
   * for the current board before they listen.
   */
  async ready(slug?: string | null, opts: { create?: boolean } = {}): Promise<Board> {
    const s = this.resolveSlug(slug);
    const target = this.database();
    if (target.engine === "postgres" && !this.open.has(s)) {
      if (!opts.create) await this.refreshBoards();
      // openPgBoard rejects with the connect's own typed error, and closes what it opened; it also
      // creates and migrates the board's schema, hence the existence check first.
      const opened = await openPgBoard(this.pgOptions(s, target.url, opts.create));
      this.pgBoards.add(s);
      if (this.open.has(s)) opened.close();
      else this.open.set(s, opened);
    }
    const board = this.board(s);
    try {
      await board.latestEventId();
    } catch (err) {
      if (this.open.get(s) === board) this.evict(s);
      throw err;
    }
    return board;
  }

  /** This host's profiles (null while config.json is invalid, as `ctx.knownProfiles()`). */
  private diagnosticsPolicy(): { knownProfiles: readonly string[] | null } {
    const snap = processConfigReader(this.location.home).get();
    const hermesHome = this.options.hermesHome ?? hermesHomeFromEnv(process.env);
    return {
      knownProfiles: snap.error === null ? knownProfiles(snap.config, hermesHome).names : null,
    };
  }

  /** Closes and forgets a board (after it was removed, or its metadata changed). */
  evict(slug: string): void {
    const board = this.open.get(slug);
    if (board) {
      this.open.delete(slug);
      board.close();
    }
  }

  /** Closes every open board and the catalog; resolves once their connections are closed. */
  async close(): Promise<void> {
    const closing = [...this.open.values()].map((board) => board.close());
    this.open.clear();
    const catalog = this.catalog;
    this.catalog = null;
    await Promise.all([
      ...closing,
      catalog?.then(
        (db) => db.close(),
        () => {},
      ),
    ]);
  }
}
