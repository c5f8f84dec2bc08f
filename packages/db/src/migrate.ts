import fs from "node:fs";
import path from "node:path";
import type Database from "better-sqlite3";
import { drizzle } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import { readMigrationFiles } from "drizzle-orm/migrator";
import { type LegacyUpgradeReport, upgradeLegacySchema } from "./legacy-upgrade.ts";
import { defaultMigrationsFolder } from "./migrations-folder.ts";
import { hermesDeclarations } from "./schema/hermes-columns.ts";

export interface MigrateOptions {
  migrationsFolder?: string;
  nowSeconds?: () => number;
}

export interface MigrateReport {
  /** What the legacy pass did; null for a file that had no `tasks` table (created fresh). */
  legacy: LegacyUpgradeReport | null;
  /** True when the file had no migration journal: a Hermes (or older) board adopted in place. */
  adopted: boolean;
}

const JOURNAL = "__drizzle_migrations";

function tableExists(sqlite: Database.Database, name: string): boolean {
  return sqlite.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
}

/**
 * Brings a board file to the current schema.
 *
 * - A new file gets the drizzle-kit migrations from scratch.
 * - A file with a `tasks` table is first taken through the Hermes legacy steps (spec §1.8), which
 *   are idempotent and cheap on a current file. If it had no journal yet (a Hermes board), the
 *   baseline migration is then recorded as applied, because the legacy steps produced exactly its
 *   shape, and later migrations apply on top as usual.
 */
export function migrateDatabase(sqlite: Database.Database, opts: MigrateOptions = {}): MigrateReport {
  const migrationsFolder = opts.migrationsFolder ?? defaultMigrationsFolder();
  if (isCurrent(sqlite, migrationsFolder)) return { legacy: null, adopted: false };
  const migrations = readMigrationFiles({ migrationsFolder });
  const baseline = migrations[0];
  if (!baseline) throw new Error(`no migrations found in ${migrationsFolder}`);
  let legacy: LegacyUpgradeReport | null = null;
  let adopted = false;

  if (tableExists(sqlite, "tasks")) {
    const nowSeconds = opts.nowSeconds ?? (() => Math.floor(Date.now() / 1000));
    const hadJournal = tableExists(sqlite, JOURNAL);
    // Tables the legacy pass creates or rebuilds get Hermes' declarations at once (migration 0003).
    legacy = upgradeLegacySchema(sqlite, { nowSeconds, baselineSql: baseline.sql.map(hermesDeclarations) });
    const journalRows = hadJournal
      ? (sqlite.prepare(`SELECT count(*) AS n FROM ${JOURNAL}`).get() as { n: number }).n
      : 0;
    if (journalRows === 0) {
      adopted = true;
      sqlite
        .transaction(() => {
          sqlite.exec(
            `CREATE TABLE IF NOT EXISTS ${JOURNAL} (id INTEGER PRIMARY KEY AUTOINCREMENT, hash text NOT NULL, created_at numeric)`,
          );
          const again = (sqlite.prepare(`SELECT count(*) AS n FROM ${JOURNAL}`).get() as { n: number }).n;
          if (again === 0) {
            sqlite
              .prepare(`INSERT INTO ${JOURNAL} (hash, created_at) VALUES (?, ?)`)
              .run(baseline.hash, baseline.folderMillis);
          }
        })
        .immediate();
    }
  }
  // Migration 0003 edits column declarations through writable_schema, which better-sqlite3's
  // defensive mode forbids; it is lifted for the migrations only.
  sqlite.unsafeMode(true);
  try {
    migrate(drizzle(sqlite), { migrationsFolder });
  } finally {
    sqlite.unsafeMode(false);
  }
  return { legacy, adopted };
}

/**
 * Whether the file already holds every migration of the folder: its journal's newest entry is not
 * older than the folder's newest (drizzle applies exactly the migrations newer than that entry).
 * Such a file was brought up to date by an earlier open, so the legacy pass and drizzle's migrator
 * (which takes a write transaction even when it has nothing to apply) have nothing to do. Every
 * short-lived CLI call opens the board afresh, so this read replaces a write on its path. Read only
 * from the journal file: hashing every migration's SQL costs more than the check saves.
 */
function isCurrent(sqlite: Database.Database, migrationsFolder: string): boolean {
  if (!tableExists(sqlite, JOURNAL) || !tableExists(sqlite, "tasks")) return false;
  let newest: number | undefined;
  try {
    const journal = JSON.parse(fs.readFileSync(path.join(migrationsFolder, "meta", "_journal.json"), "utf8")) as {
      entries?: { when?: unknown }[];
    };
    const whens = (journal.entries ?? []).map((e) => Number(e.when)).filter((n) => Number.isFinite(n));
    newest = whens.length > 0 ? Math.max(...whens) : undefined;
  } catch {
    return false;
  }
  if (newest === undefined) return false;
  const row = sqlite.prepare(`SELECT max(CAST(created_at AS INTEGER)) AS at FROM ${JOURNAL}`).get() as
    | { at: number | bigint | null }
    | undefined;
  return row?.at != null && Number(row.at) >= newest;
}
