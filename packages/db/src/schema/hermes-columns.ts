import { integer as drizzleInteger, text as drizzleText } from "drizzle-orm/sqlite-core";

/**
 * Column builders that declare columns the way Hermes' `SCHEMA_SQL` does, so that `PRAGMA
 * table_info` of a board we create is Hermes' column by column (a Hermes test compares a rebuilt
 * schema with a fresh one):
 *
 * - declared types are upper case (`TEXT`, `INTEGER`; drizzle writes `text`, `integer`); SQLite's
 *   type affinity ignores case, so only the declaration text differs;
 * - a column-level PRIMARY KEY carries no NOT NULL (drizzle's `primaryKey()` adds it). Hermes always
 *   sets its ids, and for an INTEGER PRIMARY KEY the constraint is implied anyway.
 *
 * Migration 0003 brings boards created before this to the same declarations, and `hermesDeclarations`
 * below applies the same rewrite to the baseline migration's DDL.
 */
type BuildableColumn = { getSQLType(): string; primary: boolean; notNull: boolean };

function asHermesDeclares<B extends object>(builder: B): B {
  const b = builder as unknown as { build(table: unknown): BuildableColumn };
  const build = b.build.bind(builder);
  b.build = (table: unknown) => {
    const column = build(table);
    const type = column.getSQLType().toUpperCase();
    column.getSQLType = () => type;
    if (column.primary) column.notNull = false;
    return column;
  };
  return builder;
}

export function text<N extends string>(name: N) {
  return asHermesDeclares(drizzleText(name));
}

export function integer<N extends string>(name: N) {
  return asHermesDeclares(drizzleInteger(name));
}

/**
 * The same rewrite on drizzle-kit's DDL (`\`id\` text PRIMARY KEY NOT NULL`, `\`n\` integer`), for
 * the statements of the baseline migration that the legacy upgrade replays. Must match the SQL of
 * migration 0003.
 */
export function hermesDeclarations(ddl: string): string {
  return ddl
    .replaceAll("` text PRIMARY KEY NOT NULL", "` TEXT PRIMARY KEY")
    .replaceAll(" PRIMARY KEY AUTOINCREMENT NOT NULL", " PRIMARY KEY AUTOINCREMENT")
    .replaceAll("` text", "` TEXT")
    .replaceAll("` integer", "` INTEGER");
}
