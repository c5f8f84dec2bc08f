import fs from "node:fs";
import path from "node:path";
import { type BoardLocation, boardLocationFromEnv } from "@kanban/api";

/**
 * The web server's configuration, and the only place in apps/web that reads `process.env`:
 * where boards live (KANBAN_HOME, KANBAN_DB, KANBAN_BOARD, KANBAN_WORKSPACES_ROOT) and the API
 * token (KANBAN_TOKEN; unset = open, which the API allows on loopback host names only).
 */
export interface WebEnv {
  readonly location: BoardLocation;
  readonly token: string | null;
  /** The drizzle migrations of @kanban/db (Next bundles the server, so the folder is passed in). */
  readonly migrationsFolder: string | undefined;
}

/**
 * Next runs with apps/web as its working directory; a host started from the repository root
 * works too. Undefined lets the database package fall back to its own lookup.
 */
export function findMigrationsFolder(cwd: string): string | undefined {
  const candidates = [
    path.join(cwd, "..", "..", "packages", "db", "drizzle"),
    path.join(cwd, "packages", "db", "drizzle"),
  ];
  return candidates.find((dir) => fs.existsSync(path.join(dir, "meta", "_journal.json")));
}

export function loadEnv(env: Record<string, string | undefined> = process.env, cwd: string = process.cwd()): WebEnv {
  const token = env.KANBAN_TOKEN?.trim();
  return Object.freeze({
    location: boardLocationFromEnv(env),
    token: token ? token : null,
    migrationsFolder: findMigrationsFolder(cwd),
  });
}
