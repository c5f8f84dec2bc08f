import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { forgetInitialised, type JournalModeChoice } from "./connection.ts";
import { KanbanDbError } from "./errors.ts";

/**
 * Where boards live on disk. The layout is Hermes' own (spec §1.1), so pointing KANBAN_HOME at a
 * Hermes root (`~/.hermes`) opens that installation's boards:
 *
 *   <home>/kanban.db                              the `default` board
 *   <home>/kanban/boards/default/board.json       its display metadata
 *   <home>/kanban/workspaces/<task>/, logs/<task>.log
 *   <home>/kanban/boards/<slug>/{kanban.db,board.json,workspaces/,logs/}
 *   <home>/kanban/boards/_archived/<slug>-<unix ts>[-n]/
 *   <home>/kanban/current                         the active board (one line)
 */
export interface BoardLocation {
  /** KANBAN_HOME: the root that holds every board. */
  home: string;
  /** KANBAN_DB: pins one database file for every board lookup (wins over everything). */
  dbOverride?: string;
  /** KANBAN_WORKSPACES_ROOT: pins the scratch workspaces root. */
  workspacesRootOverride?: string;
  /** KANBAN_BOARD: the board selected by the environment. */
  envBoard?: string;
  /** KANBAN_JOURNAL_MODE=wal: switch existing boards to WAL (default: keep each board's mode). */
  journalMode?: JournalModeChoice;
}

export interface BoardMetadata {
  slug: string;
  name: string;
  description: string;
  icon: string;
  color: string;
  default_workdir: string | null;
  created_at: number | null;
  archived: boolean;
  /** Derived, never persisted. */
  db_path: string;
}

export type BoardMetadataPatch = Partial<
  Pick<BoardMetadata, "name" | "description" | "icon" | "color" | "archived">
> & {
  /** null = unchanged, "" = clear. */
  default_workdir?: string | null;
};

export const DEFAULT_BOARD = "default";
const SLUG_RE = /^[a-z0-9][a-z0-9\-_]{0,63}$/;

/** Reads the location variables from an environment map (processes pass `process.env`). */
export function boardLocationFromEnv(env: Record<string, string | undefined>): BoardLocation {
  const expand = (p: string) => (p.startsWith("~") ? path.join(os.homedir(), p.slice(1)) : p);
  const nonEmpty = (v: string | undefined) => (v !== undefined && v.trim() !== "" ? v.trim() : undefined);
  const home = nonEmpty(env.KANBAN_HOME);
  const db = nonEmpty(env.KANBAN_DB);
  const ws = nonEmpty(env.KANBAN_WORKSPACES_ROOT);
  const journal = nonEmpty(env.KANBAN_JOURNAL_MODE)?.toLowerCase();
  if (journal !== undefined && journal !== "wal" && journal !== "keep") {
    throw new KanbanDbError("CONFIG_INVALID", `invalid KANBAN_JOURNAL_MODE='${journal}': expected 'wal' or 'keep'`, {
      key: "KANBAN_JOURNAL_MODE",
    });
  }
  return {
    home: path.resolve(home ? expand(home) : path.join(os.homedir(), ".kanban")),
    dbOverride: db ? path.resolve(expand(db)) : undefined,
    workspacesRootOverride: ws ? path.resolve(expand(ws)) : undefined,
    envBoard: nonEmpty(env.KANBAN_BOARD),
    ...(journal === "wal" ? { journalMode: "wal" as const } : {}),
  };
}

/** Normalises a board slug (trim, lowercase) or throws `BOARD_INVALID` with Hermes' wording. */
export function normaliseSlug(input: unknown): string {
  const slug = String(input ?? "")
    .trim()
    .toLowerCase();
  if (slug === "") throw new KanbanDbError("BOARD_INVALID", "no board given");
  if (!SLUG_RE.test(slug)) {
    throw new KanbanDbError(
      "BOARD_INVALID",
      `invalid board slug '${String(input)}': must be 1-64 chars, lowercase alphanumerics / hyphens / underscores, not starting with '-' or '_'`,
    );
  }
  return slug;
}

function tryNormalise(input: unknown): string | null {
  try {
    return normaliseSlug(input);
  } catch {
    return null;
  }
}

/** Default display name: `atm10-server` → `Atm10 Server`. */
export function defaultBoardName(slug: string): string {
  return slug
    .split(/[-_]/)
    .filter((p) => p !== "")
    .map((p) => p[0]?.toUpperCase() + p.slice(1))
    .join(" ");
}

export function boardsRoot(loc: BoardLocation): string {
  return path.join(loc.home, "kanban", "boards");
}

export function boardDir(loc: BoardLocation, slug: string): string {
  return path.join(boardsRoot(loc), normaliseSlug(slug));
}

/** The database file of a board (KANBAN_DB wins over everything). */
export function boardDbPath(loc: BoardLocation, slug: string): string {
  if (loc.dbOverride) return loc.dbOverride;
  const s = normaliseSlug(slug);
  return s === DEFAULT_BOARD ? path.join(loc.home, "kanban.db") : path.join(boardDir(loc, s), "kanban.db");
}

export function workspacesRoot(loc: BoardLocation, slug: string): string {
  if (loc.workspacesRootOverride) return loc.workspacesRootOverride;
  const s = normaliseSlug(slug);
  return s === DEFAULT_BOARD ? path.join(loc.home, "kanban", "workspaces") : path.join(boardDir(loc, s), "workspaces");
}

export function logsDir(loc: BoardLocation, slug: string): string {
  const s = normaliseSlug(slug);
  return s === DEFAULT_BOARD ? path.join(loc.home, "kanban", "logs") : path.join(boardDir(loc, s), "logs");
}

export function boardExists(loc: BoardLocation, slug: string): boolean {
  const s = tryNormalise(slug);
  if (s === null) return false;
  if (s === DEFAULT_BOARD) return true;
  const dir = boardDir(loc, s);
  return fs.existsSync(path.join(dir, "board.json")) || fs.existsSync(path.join(dir, "kanban.db"));
}

function currentFile(loc: BoardLocation): string {
  return path.join(loc.home, "kanban", "current");
}

/**
 * The active board: the first of (explicit override, KANBAN_BOARD, the `current` file, `default`)
 * that is a valid slug of an existing board. Stale or malformed values fall through silently.
 */
export function currentBoard(loc: BoardLocation, override?: string): string {
  let fromFile: string | undefined;
  try {
    fromFile = fs
      .readFileSync(currentFile(loc), "utf8")
      .replace(/^\uFEFF/, "")
      .trim();
  } catch {
    fromFile = undefined;
  }
  for (const candidate of [override, loc.envBoard, fromFile]) {
    if (candidate === undefined) continue;
    const s = tryNormalise(candidate);
    if (s !== null && boardExists(loc, s)) return s;
  }
  return DEFAULT_BOARD;
}

export function setCurrentBoard(loc: BoardLocation, slug: string): void {
  const s = normaliseSlug(slug);
  fs.mkdirSync(path.dirname(currentFile(loc)), { recursive: true });
  fs.writeFileSync(currentFile(loc), `${s}\n`);
}

export function clearCurrentBoard(loc: BoardLocation): void {
  fs.rmSync(currentFile(loc), { force: true });
}

/** Reads board.json merged over defaults; a missing or malformed file yields the defaults. */
export function readBoardMetadata(loc: BoardLocation, slug: string): BoardMetadata {
  const s = normaliseSlug(slug);
  const defaults: BoardMetadata = {
    slug: s,
    name: defaultBoardName(s),
    description: "",
    icon: "",
    color: "",
    default_workdir: null,
    created_at: null,
    archived: false,
    db_path: boardDbPath(loc, s),
  };
  let stored: Record<string, unknown> = {};
  try {
    const parsed = JSON.parse(fs.readFileSync(path.join(boardDir(loc, s), "board.json"), "utf8")) as unknown;
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) stored = parsed as Record<string, unknown>;
  } catch {
    stored = {};
  }
  const str = (v: unknown, d: string) => (typeof v === "string" ? v : d);
  return {
    ...stored,
    slug: s,
    name: str(stored.name, "").trim() || defaults.name,
    description: str(stored.description, ""),
    icon: str(stored.icon, ""),
    color: str(stored.color, ""),
    default_workdir:
      typeof stored.default_workdir === "string" && stored.default_workdir !== "" ? stored.default_workdir : null,
    created_at: typeof stored.created_at === "number" ? stored.created_at : null,
    archived: stored.archived === true,
    db_path: defaults.db_path,
  };
}

/** Writes only the given fields of board.json (pretty JSON, UTF-8, trailing newline). */
export function writeBoardMetadata(
  loc: BoardLocation,
  slug: string,
  patch: BoardMetadataPatch,
  nowSeconds: number = Math.floor(Date.now() / 1000),
): BoardMetadata {
  const s = normaliseSlug(slug);
  const dir = boardDir(loc, s);
  const file = path.join(dir, "board.json");
  let stored: Record<string, unknown> = {};
  try {
    const parsed = JSON.parse(fs.readFileSync(file, "utf8")) as unknown;
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) stored = parsed as Record<string, unknown>;
  } catch {
    stored = {};
  }
  const next: Record<string, unknown> = { ...stored, slug: s };
  if (patch.name !== undefined) next.name = patch.name.trim() || defaultBoardName(s);
  if (next.name === undefined) next.name = defaultBoardName(s);
  for (const key of ["description", "icon", "color"] as const) {
    if (patch[key] !== undefined) next[key] = patch[key];
    else if (next[key] === undefined) next[key] = "";
  }
  if (patch.default_workdir !== undefined && patch.default_workdir !== null) {
    next.default_workdir = patch.default_workdir === "" ? null : patch.default_workdir;
  } else if (next.default_workdir === undefined) next.default_workdir = null;
  if (patch.archived !== undefined) next.archived = patch.archived;
  else if (next.archived === undefined) next.archived = false;
  if (typeof next.created_at !== "number") next.created_at = nowSeconds;
  delete next.db_path;
  fs.mkdirSync(dir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(next, null, 2)}\n`);
  fs.renameSync(tmp, file);
  return readBoardMetadata(loc, s);
}

/** Every board: `default` first, then the others sorted case-insensitively. */
export function listBoards(loc: BoardLocation, opts: { includeArchived?: boolean } = {}): BoardMetadata[] {
  const includeArchived = opts.includeArchived ?? true;
  const out = [readBoardMetadata(loc, DEFAULT_BOARD)];
  let entries: string[] = [];
  try {
    entries = fs.readdirSync(boardsRoot(loc));
  } catch {
    entries = [];
  }
  const slugs = entries
    .filter((name) => name !== DEFAULT_BOARD && SLUG_RE.test(name) && boardExists(loc, name))
    .sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()));
  for (const slug of slugs) {
    const meta = readBoardMetadata(loc, slug);
    if (includeArchived || !meta.archived) out.push(meta);
  }
  return out;
}

/**
 * Removes a board: archive (default) moves its directory under `_archived/`, otherwise it is
 * deleted. The `default` board can never be removed.
 */
export function removeBoard(
  loc: BoardLocation,
  slug: string,
  opts: { archive?: boolean; nowSeconds?: number } = {},
): { slug: string; action: "archived" | "deleted"; new_path: string | null } {
  const s = normaliseSlug(slug);
  if (s === DEFAULT_BOARD) throw new KanbanDbError("BOARD_INVALID", "the 'default' board cannot be removed");
  if (!boardExists(loc, s)) throw new KanbanDbError("BOARD_NOT_FOUND", `board '${s}' does not exist`);
  let cur: string | undefined;
  try {
    cur = fs.readFileSync(currentFile(loc), "utf8").trim();
  } catch {
    cur = undefined;
  }
  if (cur === s) clearCurrentBoard(loc);
  const dir = boardDir(loc, s);
  // A board created again under this slug is a new file: its first open must migrate it, not trust
  // this process's memory of the old one.
  forgetInitialised(path.join(dir, "kanban.db"));
  if (opts.archive === false) {
    fs.rmSync(dir, { recursive: true, force: true });
    return { slug: s, action: "deleted", new_path: null };
  }
  const archiveRoot = path.join(boardsRoot(loc), "_archived");
  fs.mkdirSync(archiveRoot, { recursive: true });
  const stamp = opts.nowSeconds ?? Math.floor(Date.now() / 1000);
  let target = path.join(archiveRoot, `${s}-${stamp}`);
  for (let n = 1; fs.existsSync(target); n++) target = path.join(archiveRoot, `${s}-${stamp}-${n}`);
  fs.renameSync(dir, target);
  return { slug: s, action: "archived", new_path: target };
}
