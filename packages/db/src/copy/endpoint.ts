import os from "node:os";
import path from "node:path";
import { type BoardLocation, boardDbPath, boardExists, DEFAULT_BOARD, normaliseSlug } from "../boards.ts";
import { KanbanDbError } from "../errors.ts";
import { parsePostgresUrl } from "../pg-url.ts";
import { KanbanCopyError } from "./errors.ts";

/**
 * One side of `kanban db copy`:
 *
 * - `postgres://…` or `postgresql://…`: a board in a PostgreSQL database. The board is the URL's
 *   `board` query parameter (`postgres://u@host/db?board=acme`), else the caller's default board
 *   (`--board`/`KANBAN_BOARD`), else `default`. The parameter is removed before connecting.
 * - anything with a path separator, or ending in `.db`: an SQLite board file (`./kanban.db`,
 *   `~/.hermes/kanban.db`, `/srv/boards/x.db`); `~/` is the home directory.
 * - otherwise a board slug under `KANBAN_HOME` (`default`, `acme`), as `--board` names it.
 */
export type CopyEndpoint =
  | {
      kind: "sqlite";
      /** Absolute path of the board file. */
      file: string;
      /** The board slug under KANBAN_HOME when the endpoint named one (a missing board is created as a target). */
      slug: string | null;
      label: string;
    }
  | {
      kind: "postgres";
      /** The URL to connect with (without `board`). Holds the password: never print it. */
      url: string;
      board: string;
      /** `host:port/database`, no user or password. */
      server: string;
      label: string;
    };

export interface ParseEndpointOptions {
  location: BoardLocation;
  /** The board a PostgreSQL URL without `?board=` names (`--board`/`KANBAN_BOARD`); default `default`. */
  defaultBoard?: string | null;
  /** Whether the endpoint is the source (its board must exist) or the target (created when missing). */
  role: "source" | "target";
}

function expandHome(p: string, home: string): string {
  if (p === "~") return home;
  if (p.startsWith("~/")) return path.join(home, p.slice(2));
  return p;
}

export function parseCopyEndpoint(spec: string, opts: ParseEndpointOptions): CopyEndpoint {
  const text = spec.trim();
  if (text === "") throw new KanbanCopyError("COPY_ENDPOINT_INVALID", `no ${opts.role} given`);
  if (/^postgres(ql)?:\/\//i.test(text)) {
    // Validates the URL (one line, never the password) and names the server for messages.
    const { target } = parsePostgresUrl(text);
    const url = new URL(text);
    const fromUrl = url.searchParams.get("board");
    url.searchParams.delete("board");
    const board = normaliseSlug(fromUrl ?? opts.defaultBoard ?? DEFAULT_BOARD);
    return {
      kind: "postgres",
      url: url.toString(),
      board,
      server: target.label,
      label: `postgres ${target.label} board ${board}`,
    };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    const scheme = text.slice(0, text.indexOf(":")).slice(0, 20);
    throw new KanbanCopyError(
      "COPY_ENDPOINT_INVALID",
      `cannot copy ${opts.role === "source" ? "from" : "to"} a '${scheme}' URL: give a board file, a board slug or a postgres:// URL`,
    );
  }
  if (text.includes("/") || text.includes(path.sep) || text.endsWith(".db") || text.startsWith("~")) {
    const file = path.resolve(expandHome(text, os.homedir()));
    return { kind: "sqlite", file, slug: null, label: file };
  }
  const slug = normaliseSlug(text);
  if (opts.role === "source" && !boardExists(opts.location, slug)) {
    throw new KanbanDbError("BOARD_NOT_FOUND", `board '${slug}' does not exist under ${opts.location.home}`, { slug });
  }
  const file = boardDbPath(opts.location, slug);
  return { kind: "sqlite", file, slug, label: `board ${slug} (${file})` };
}

/** Whether two endpoints are the same board (a copy onto itself would empty it under --replace). */
export function sameBoard(a: CopyEndpoint, b: CopyEndpoint): boolean {
  if (a.kind === "sqlite" && b.kind === "sqlite") return a.file === b.file;
  if (a.kind === "postgres" && b.kind === "postgres") return a.server === b.server && a.board === b.board;
  return false;
}
