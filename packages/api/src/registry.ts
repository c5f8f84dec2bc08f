import {
  type BoardLocation,
  boardDbPath,
  boardExists,
  currentBoard,
  DEFAULT_BOARD,
  hermesHomeFromEnv,
  knownProfiles,
  normaliseSlug,
} from "@kanban/db";
import { type Board, type Clock, openBoard, type PidProbe, systemClock } from "@kanban/kernel";
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
}

/**
 * The open boards of one process, one kernel `Board` (one SQLite connection, one statement cache)
 * per slug. Opening a board runs its header/integrity/migration checks, so a request must never pay
 * for that twice; boards removed on disk are dropped on their next lookup.
 */
export class BoardRegistry {
  private readonly open = new Map<string, Board>();
  readonly location: BoardLocation;
  readonly clock: Clock;

  constructor(private readonly options: BoardRegistryOptions) {
    this.location = options.location;
    this.clock = options.clock ?? systemClock;
  }

  /** The slug a request means: the one it names (validated), else the current board. */
  resolveSlug(slug?: string | null): string {
    if (slug === undefined || slug === null || slug.trim() === "") return currentBoard(this.location);
    return normaliseSlug(slug);
  }

  dbPath(slug: string): string {
    return boardDbPath(this.location, slug);
  }

  /** The open board of `slug` (or the current board); BOARD_NOT_FOUND for a board that does not exist. */
  board(slug?: string | null): Board {
    const s = this.resolveSlug(slug);
    const cached = this.open.get(s);
    if (cached) {
      // Another process may have archived or deleted the board since it was opened.
      if (s === DEFAULT_BOARD || this.location.dbOverride || boardExists(this.location, s)) return cached;
      this.evict(s);
    }
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
    });
    this.open.set(s, board);
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

  close(): void {
    for (const slug of [...this.open.keys()]) this.evict(slug);
  }
}
