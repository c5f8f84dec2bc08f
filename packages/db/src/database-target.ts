import fs from "node:fs";
import { KanbanDbError } from "./errors.ts";
import { homeConfigPath, readHomeConfigSnapshot } from "./home-config.ts";
import type { PgListenMode } from "./pg-listen.ts";
import { boardSchemaName } from "./pg-board-schema.ts";
import { parsePostgresUrl } from "./pg-url.ts";

/**
 * Which engine a process keeps its boards on. The URL is a secret (it may carry the password): it is
 * handed to the driver and nowhere else; what is printed is {@link databaseLabel}.
 */
export type DatabaseTarget =
  | { engine: "sqlite" }
  | { engine: "postgres"; url: string; source: "KANBAN_DATABASE_URL" | "config.json" };

export const DATABASE_URL_ENV = "KANBAN_DATABASE_URL";

type Env = Readonly<Record<string, string | undefined>>;

function nonEmpty(v: string | null | undefined): string | null {
  return typeof v === "string" && v.trim() !== "" ? v.trim() : null;
}

/**
 * THE rule that picks the engine, used by `kanban serve`, `npm start`, the CLI's local mode and the
 * web board: `KANBAN_DATABASE_URL` wins over config.json's `"database"`, and either one set to an
 * empty value means the embedded SQLite (so `KANBAN_DATABASE_URL=` runs a home whose config.json
 * names a server on its SQLite files); with neither, SQLite. `KANBAN_DB` pins an SQLite file, so it overrides config.json's
 * `"database"` (the environment beats the file) but cannot be combined with `KANBAN_DATABASE_URL`:
 * that pair names two different databases and is refused rather than guessed.
 *
 * The URL is not checked here: opening it does that, with one typed, password-free error.
 */
export function databaseTarget(env: Env, config: { database?: string | null } | null): DatabaseTarget {
  const fromEnv = nonEmpty(env[DATABASE_URL_ENV]);
  if (env[DATABASE_URL_ENV] !== undefined && fromEnv === null) return { engine: "sqlite" };
  if (fromEnv !== null) {
    if (nonEmpty(env.KANBAN_DB) !== null) {
      throw new KanbanDbError(
        "CONFIG_INVALID",
        "KANBAN_DB (an SQLite file) and KANBAN_DATABASE_URL (PostgreSQL) are both set: unset one of them",
        { key: DATABASE_URL_ENV },
      );
    }
    return { engine: "postgres", url: fromEnv, source: "KANBAN_DATABASE_URL" };
  }
  if (nonEmpty(env.KANBAN_DB) !== null) return { engine: "sqlite" };
  const fromConfig = nonEmpty(config?.database);
  return fromConfig === null ? { engine: "sqlite" } : { engine: "postgres", url: fromConfig, source: "config.json" };
}

/**
 * {@link databaseTarget} with `<home>/config.json` read now. An invalid config.json normally leaves
 * the defaults in force, but when it names a `"database"` the defaults would silently be the other
 * engine: then the file's own error is thrown (CONFIG_INVALID), so nothing starts on the wrong store.
 * The engine is chosen once per process: an edit of `"database"` applies at the next start.
 */
export function resolveDatabaseTarget(env: Env, home: string): DatabaseTarget {
  if (env[DATABASE_URL_ENV] !== undefined || nonEmpty(env.KANBAN_DB) !== null) return databaseTarget(env, null);
  const snapshot = readHomeConfigSnapshot(home);
  if (snapshot.error !== null && declaresDatabase(home)) {
    throw new KanbanDbError(
      "CONFIG_INVALID",
      `${snapshot.error} (${homeConfigPath(home)}); it names a "database", so nothing starts until it is fixed`,
      { key: "database" },
    );
  }
  return databaseTarget(env, snapshot.config);
}

/** Whether the raw config.json mentions a `"database"` key at all (read only when the file is invalid). */
function declaresDatabase(home: string): boolean {
  try {
    return fs.readFileSync(homeConfigPath(home), "utf8").includes('"database"');
  } catch {
    return false;
  }
}

/**
 * What may be printed of a PostgreSQL URL: `postgres://host:port/database`, never the user's
 * password (nor the user). With `slug`, the board's schema follows as `#kanban_<slug>`.
 */
export function databaseLabel(url: string, slug?: string): string {
  let where = "(invalid URL)";
  try {
    where = parsePostgresUrl(url).target.label;
  } catch {
    // A URL that does not parse is reported by the open with its own typed error; never echo it here.
  }
  return `postgres://${where}${slug === undefined ? "" : `#${boardSchemaName(slug)}`}`;
}

/** How a process hears of other processes' writes on PostgreSQL (`KANBAN_DATABASE_LISTEN*`). */
export interface LiveEventsSettings {
  /** `listen` (default): a dedicated LISTEN connection; `poll`: behind a transaction-pooling proxy. */
  mode: PgListenMode;
  /** `KANBAN_DATABASE_LISTEN_URL`: a direct server URL for the LISTEN connection (bypassing a pooler). */
  url: string | null;
}

export function liveEventsSettings(env: Env): LiveEventsSettings {
  const raw = nonEmpty(env.KANBAN_DATABASE_LISTEN)?.toLowerCase() ?? "listen";
  if (raw !== "listen" && raw !== "poll") {
    throw new KanbanDbError(
      "CONFIG_INVALID",
      `invalid KANBAN_DATABASE_LISTEN='${raw.slice(0, 20)}': expected 'listen' or 'poll'`,
      { key: "KANBAN_DATABASE_LISTEN" },
    );
  }
  return { mode: raw, url: nonEmpty(env.KANBAN_DATABASE_LISTEN_URL) };
}
