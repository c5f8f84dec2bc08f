import { customType, bigint as pgBigint } from "drizzle-orm/pg-core";

/**
 * Column types of the PostgreSQL schema, chosen so that every value an SQLite board holds comes
 * back unchanged after `kanban db copy`, and so that the kernel's SQL means the same on both engines:
 *
 * - `text` is `text COLLATE "C"`. SQLite compares and sorts TEXT with BINARY (memcmp of the UTF-8
 *   bytes); a database's default collation (en_US.UTF-8 and the like) would order ids, assignees and
 *   page cursors differently. The "C" collation compares bytes, which for UTF-8 is code-point order:
 *   exactly SQLite's order. It is also the cheapest collation for B-tree indexes.
 * - `integer` is `bigint`: an SQLite INTEGER is a signed 64-bit value, and Hermes' times are unix
 *   seconds (which overflow int4 in 2038). `mode: "number"` only affects drizzle's query builder; the
 *   connection (`openPostgres`) parses int8 itself.
 *
 * JSON columns (payload, metadata, skills, ...) stay `text` on purpose: Hermes writes them as text,
 * and jsonb would reorder keys and normalise whitespace, so a copy would not be byte-exact.
 */
export const text = customType<{ data: string; driverData: string }>({
  dataType: () => 'text COLLATE "C"',
});

export function integer<N extends string>(name: N) {
  return pgBigint(name, { mode: "number" });
}

/**
 * An SQLite `INTEGER PRIMARY KEY AUTOINCREMENT`: a bigint identity. BY DEFAULT (not ALWAYS) so that a
 * copy can insert the source's ids as they are; the copy then moves the identity's sequence past the
 * highest id (and past SQLite's `sqlite_sequence`), so ids are never reused, as AUTOINCREMENT promises.
 */
export function autoincrementId<N extends string>(name: N) {
  return integer(name).primaryKey().generatedByDefaultAsIdentity();
}
