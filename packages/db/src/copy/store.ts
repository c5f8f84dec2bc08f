import type { CopyRow } from "./canonical.ts";
import type { CopyTable } from "./tables.ts";

/**
 * One board on one engine, as the copy uses it. Both engines implement the same small surface, so
 * the copy and its verification are written once (`copy-board.ts`) and every direction
 * (SQLite → PostgreSQL, PostgreSQL → SQLite, SQLite → SQLite, PostgreSQL → PostgreSQL) is the same code.
 */
export interface CopyStore {
  /** Where the board is, for messages: a file path, or `host:port/database` and the board. Never a password. */
  readonly label: string;
  /**
   * Reads run inside `fn` see one consistent snapshot of the board (SQLite: one read transaction;
   * PostgreSQL: REPEATABLE READ), so a board being written while it is copied is copied as of one instant.
   */
  readSnapshot<T>(fn: (reader: CopyReader) => Promise<T>): Promise<T>;
  /**
   * Writes in one transaction: everything `fn` wrote commits together, or (on any throw) nothing
   * does. `replace` empties every table first (inside the same transaction); without it, a table
   * that holds rows fails with COPY_TARGET_NOT_EMPTY. Either way the derived tables
   * (`isDerivedTable` in tables.ts) are emptied, for the target's kernel to rebuild. The reader
   * reads inside the same transaction (the rows just written), so the copy can check them before
   * committing.
   */
  writeTransaction(
    opts: { replace: boolean },
    fn: (writer: CopyWriter, reader: CopyReader) => Promise<void>,
  ): Promise<void>;
  close(): Promise<void>;
}

export interface CopyReader {
  /** Rows of `table` in primary-key order (byte order for text), columns in `table.columns` order, in batches. */
  rows(table: CopyTable): AsyncIterable<CopyRow[]>;
  /** The highest id each AUTOINCREMENT table has ever handed out (0 when none), by table name. */
  sequences(): Promise<Map<string, bigint>>;
  /**
   * What the board holds beyond the schema: columns of ours it has that a legacy Hermes upgrade left
   * behind (skipped, named in the report), and unknown tables or columns with data (the copy refuses).
   */
  extras(): Promise<{ legacyColumns: string[]; unknownWithData: string[] }>;
}

export interface CopyWriter {
  /** Appends rows (columns in `table.columns` order). A value the engine cannot hold exactly is COPY_UNSUPPORTED. */
  insert(table: CopyTable, rows: CopyRow[]): Promise<void>;
  /** Makes the next id of the table's AUTOINCREMENT column greater than `highest` (and every id it holds). */
  advanceSequence(table: CopyTable, highest: bigint): Promise<void>;
  /**
   * For a table whose `rowid` was inserted as given ({@link CopyTable.rowid}): makes the next row the
   * engine numbers itself get a rowid above every one the table holds, so a task created after the
   * copy sorts after the copied ones of its second.
   */
  advanceRowid(table: CopyTable): Promise<void>;
}

/** Row counts of the tables that hold rows, e.g. `tasks: 12, task_events: 40`, for the refusal's message. */
export function describeCounts(counts: Map<string, number>): string {
  return [...counts].map(([t, n]) => `${t}: ${n}`).join(", ");
}
