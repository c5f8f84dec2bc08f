import fs from "node:fs";
import path from "node:path";
import { type BoardLocation, boardDir, DEFAULT_BOARD, writeBoardMetadata } from "../boards.ts";
import { forgetInitialised } from "../connection.ts";
import { KanbanDbError } from "../errors.ts";
import { dropBoardSchema } from "../pg-board-schema.ts";
import { type KanbanPostgres, openPostgres } from "../pg-connection.ts";
import { DigestBuilder, type TableDigest } from "./canonical.ts";
import { type CopyEndpoint, parseCopyEndpoint, sameBoard } from "./endpoint.ts";
import { KanbanCopyError } from "./errors.ts";
import { postgresCopyStore, probePostgresBoard } from "./pg-store.ts";
import { openSqliteCopyStore, probeSqliteBoard } from "./sqlite-store.ts";
import { type CopyReader, type CopyStore, describeCounts } from "./store.ts";
import { COPY_TABLES } from "./tables.ts";

export interface CopyBoardOptions {
  /** The source: a board file, a board slug under KANBAN_HOME, or `postgres://…[?board=<slug>]`. */
  from: string;
  /** The target, in the same forms. A missing file, board or schema is created. */
  to: string;
  location: BoardLocation;
  /** The board of a PostgreSQL URL without `?board=` (the CLI's `--board`/`KANBAN_BOARD`); else `default`. */
  defaultBoard?: string | null;
  /** Empty a non-empty target first (in the copy's transaction). Without it a non-empty target is refused, untouched. */
  replace?: boolean;
  /** Warnings of opening a board file (WAL fallback…) and of idle PostgreSQL connections. */
  warn?: (message: string) => void;
  /** Test hook: runs after the target committed and before it is read back for verification. */
  afterCommit?: () => Promise<void> | void;
}

export interface CopyTableReport {
  table: string;
  /** Rows copied and the sha256 of their canonical encoding (primary-key order), read from the source. */
  rows: number;
  sha256: string;
  /** The same, read back from the target after the commit. */
  target: TableDigest;
  /** For AUTOINCREMENT tables: the highest id the source has handed out and the target's next id floor. */
  sequence: { source: string; target: string } | null;
  ok: boolean;
}

export interface CopyBoardReport {
  from: string;
  to: string;
  replaced: boolean;
  tables: CopyTableReport[];
  /** Legacy Hermes columns the source kept after its upgrade and the copy left behind (values already in their successors). */
  skippedColumns: string[];
  /** True when every table's count, checksum and sequence read back from the target equals the source's. */
  verified: boolean;
  /** One line per table that differs (empty when verified). */
  mismatches: string[];
}

interface Opened {
  store: CopyStore;
  /** Undoes what opening created when the copy fails before committing (a new file, board or schema). */
  discard: () => Promise<void>;
}

function sqliteSidecars(file: string): string[] {
  return [file, `${file}-wal`, `${file}-shm`, `${file}-journal`, `${file}.init.lock`];
}

async function openSource(
  ep: CopyEndpoint,
  opts: { warn?: (message: string) => void },
  pg: KanbanPostgres | null,
): Promise<CopyStore> {
  if (ep.kind === "postgres") return postgresCopyStore(pg as KanbanPostgres, ep.board, { label: ep.label });
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(ep.file);
  } catch {
    stat = undefined;
  }
  if (!stat || (stat.isFile() && stat.size === 0)) {
    if (ep.slug !== null && ep.slug === DEFAULT_BOARD) {
      throw new KanbanDbError("BOARD_NOT_FOUND", `board 'default' has no database yet at ${ep.file}`, {
        slug: ep.slug,
      });
    }
    throw new KanbanDbError("DB_PATH_INVALID", `no board file at ${ep.file}`, { path: ep.file });
  }
  return openSqliteCopyStore(ep.file, { label: ep.label, ...(opts.warn ? { warn: opts.warn } : {}) });
}

async function openTarget(ep: CopyEndpoint, opts: CopyBoardOptions, pg: KanbanPostgres | null): Promise<Opened> {
  const replace = opts.replace ?? false;
  if (ep.kind === "postgres") {
    const db = pg as KanbanPostgres;
    // Read first, create nothing: a refused target must be left exactly as it was.
    const probe = await probePostgresBoard(db, ep.board);
    refuseNonEmpty(ep, probe.counts, replace);
    return {
      store: postgresCopyStore(db, ep.board, { label: ep.label }),
      discard: async () => {
        if (!probe.exists) await dropBoardSchema(db, ep.board).catch(() => {});
      },
    };
  }
  refuseNonEmpty(ep, probeSqliteBoard(ep.file), replace);
  const fileExisted = fs.existsSync(ep.file);
  const dir = ep.slug !== null && ep.slug !== DEFAULT_BOARD ? boardDir(opts.location, ep.slug) : null;
  const dirExisted = dir !== null && fs.existsSync(dir);
  fs.mkdirSync(path.dirname(ep.file), { recursive: true });
  const store = openSqliteCopyStore(ep.file, { label: ep.label, ...(opts.warn ? { warn: opts.warn } : {}) });
  return {
    store,
    discard: async () => {
      if (fileExisted) return;
      await store.close();
      forgetInitialised(ep.file);
      for (const f of sqliteSidecars(ep.file)) fs.rmSync(f, { force: true });
      if (dir !== null && !dirExisted) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function refuseNonEmpty(ep: CopyEndpoint, counts: Map<string, number>, replace: boolean): void {
  if (counts.size === 0 || replace) return;
  throw new KanbanCopyError(
    "COPY_TARGET_NOT_EMPTY",
    `the target ${ep.label} already holds a board (${describeCounts(counts)}); pass --replace to overwrite it`,
    { target: ep.label },
  );
}

interface ReadBack {
  digests: Map<string, TableDigest>;
  sequences: Map<string, bigint>;
}

async function digestAll(reader: CopyReader): Promise<ReadBack> {
  const digests = new Map<string, TableDigest>();
  for (const table of COPY_TABLES) {
    const builder = new DigestBuilder();
    for await (const batch of reader.rows(table)) for (const row of batch) builder.add(row);
    digests.set(table.name, builder.finish());
  }
  return { digests, sequences: await reader.sequences() };
}

const short = (sha: string) => sha.slice(0, 16);

/** Per table: equal counts and checksums, and a target counter at least the source's; a line for each that differs. */
function compareDigests(source: ReadBack, target: ReadBack): { tables: CopyTableReport[]; mismatches: string[] } {
  const tables: CopyTableReport[] = [];
  const mismatches: string[] = [];
  for (const table of COPY_TABLES) {
    const src = source.digests.get(table.name) as TableDigest;
    const dst = target.digests.get(table.name) as TableDigest;
    const sequence =
      table.autoincrement === null
        ? null
        : {
            source: String(source.sequences.get(table.name) ?? 0n),
            target: String(target.sequences.get(table.name) ?? 0n),
          };
    let ok = src.rows === dst.rows && src.sha256 === dst.sha256;
    if (!ok) {
      mismatches.push(
        `${table.name}: the target has ${dst.rows} rows (sha256 ${short(dst.sha256)}), the source ${src.rows} (sha256 ${short(src.sha256)})`,
      );
    } else if (sequence !== null && BigInt(sequence.target) < BigInt(sequence.source)) {
      ok = false;
      mismatches.push(
        `${table.name}: the target's ids restart at ${BigInt(sequence.target) + 1n}, but the source already handed out up to ${sequence.source}`,
      );
    }
    tables.push({ table: table.name, rows: src.rows, sha256: src.sha256, target: dst, sequence, ok });
  }
  return { tables, mismatches };
}

/**
 * Copies one whole board (every table of the schema, every column, NULLs, ids, AUTOINCREMENT
 * counters and each task's rowid, the kernel's order among tasks of one second) from `from` to `to`, in one transaction on the target, then reads the target back and
 * compares each table's row count and checksum (sha256 over the rows' canonical encoding in
 * primary-key order, the same on both engines) with the source's. The derived tables (the flow
 * ledger, `isDerivedTable`) are not copied: the target's are emptied, and its kernel rebuilds them.
 *
 * Refuses, before writing anything: the same board on both sides (COPY_SAME_BOARD), a non-empty
 * target without `replace` (COPY_TARGET_NOT_EMPTY, target untouched), a source holding data our
 * schema cannot carry (COPY_UNSUPPORTED), and every failure to reach either side (the db's typed
 * errors, never a password). The source is only read (a Hermes board file is upgraded in place
 * when opened, as every process of ours does). A mismatch found by the verification is not thrown:
 * it is in the report (`verified: false`, one line per table in `mismatches`).
 */
export async function copyBoard(opts: CopyBoardOptions): Promise<CopyBoardReport> {
  const replace = opts.replace ?? false;
  const from = parseCopyEndpoint(opts.from, {
    location: opts.location,
    defaultBoard: opts.defaultBoard,
    role: "source",
  });
  const to = parseCopyEndpoint(opts.to, { location: opts.location, defaultBoard: opts.defaultBoard, role: "target" });
  if (sameBoard(from, to)) {
    throw new KanbanCopyError("COPY_SAME_BOARD", `the source and the target are the same board (${from.label})`);
  }

  const pools: KanbanPostgres[] = [];
  const connect = async (ep: CopyEndpoint): Promise<KanbanPostgres | null> => {
    if (ep.kind !== "postgres") return null;
    const db = await openPostgres(ep.url, { poolSize: 2, ...(opts.warn ? { warn: opts.warn } : {}) });
    pools.push(db);
    return db;
  };
  const stores: CopyStore[] = [];
  try {
    const sourcePg = await connect(from);
    const targetPg = await connect(to);
    const source = await openSource(from, opts, sourcePg);
    stores.push(source);
    const target = await openTarget(to, opts, targetPg);
    stores.push(target.store);

    let copied: ReadBack & { skippedColumns: string[] };
    try {
      copied = await source.readSnapshot(async (reader) => {
        const extras = await reader.extras();
        if (extras.unknownWithData.length > 0) {
          throw new KanbanCopyError(
            "COPY_UNSUPPORTED",
            `the source ${from.label} holds data this version's schema does not know (${extras.unknownWithData.join(", ")}); nothing was copied`,
          );
        }
        const sequences = await reader.sequences();
        const digests = new Map<string, TableDigest>();
        await target.store.writeTransaction({ replace }, async (writer, written) => {
          for (const table of COPY_TABLES) {
            const builder = new DigestBuilder();
            for await (const batch of reader.rows(table)) {
              for (const row of batch) builder.add(row);
              await writer.insert(table, batch);
            }
            digests.set(table.name, builder.finish());
            if (table.autoincrement !== null) await writer.advanceSequence(table, sequences.get(table.name) ?? 0n);
            if (table.rowid) await writer.advanceRowid(table);
          }
          // Checked before the commit too, so a target that would not hold the same rows (a
          // conversion of the engine's) is rolled back untouched rather than left half-right.
          const before = compareDigests({ digests, sequences }, await digestAll(written));
          if (before.mismatches.length > 0) {
            const tables = before.tables.filter((t) => !t.ok).map((t) => t.table);
            throw new KanbanCopyError(
              "COPY_VERIFY_FAILED",
              `the rows written to ${to.label} did not read back identical (${tables.join(", ")}: ${before.mismatches[0]}); rolled back, the target is as it was`,
              { tables },
            );
          }
        });
        return { digests, sequences, skippedColumns: extras.legacyColumns };
      });
    } catch (err) {
      await target.discard();
      throw err;
    }
    if (to.kind === "sqlite" && to.slug !== null && to.slug !== DEFAULT_BOARD) {
      // A board created by the copy gets its board.json, as `kanban boards create` would write it.
      if (!fs.existsSync(path.join(boardDir(opts.location, to.slug), "board.json"))) {
        writeBoardMetadata(opts.location, to.slug, {});
      }
    }

    await opts.afterCommit?.();
    const back = await target.store.readSnapshot(digestAll);

    const { tables, mismatches } = compareDigests(copied, back);
    return {
      from: from.label,
      to: to.label,
      replaced: replace,
      tables,
      skippedColumns: copied.skippedColumns,
      verified: mismatches.length === 0,
      mismatches,
    };
  } finally {
    for (const s of stores.reverse()) await s.close().catch(() => {});
    for (const p of pools) await p.close().catch(() => {});
  }
}

export interface VerifyBoardsOptions {
  /** The board taken as the reference, in the forms `copyBoard` takes. */
  from: string;
  /** The board compared with it. */
  to: string;
  location: BoardLocation;
  defaultBoard?: string | null;
  warn?: (message: string) => void;
}

export type VerifyBoardsReport = Omit<CopyBoardReport, "replaced" | "skippedColumns">;

/**
 * Compares two existing boards table by table (row count, checksum, AUTOINCREMENT counter) without
 * writing either (a Hermes board file is upgraded in place when opened, as by every process of
 * ours): `kanban db verify`, to check a copy again later, or two boards that should be the same.
 */
export async function verifyBoards(opts: VerifyBoardsOptions): Promise<VerifyBoardsReport> {
  const parse = (spec: string) =>
    parseCopyEndpoint(spec, { location: opts.location, defaultBoard: opts.defaultBoard, role: "source" });
  const from = parse(opts.from);
  const to = parse(opts.to);
  const pools: KanbanPostgres[] = [];
  const stores: CopyStore[] = [];
  try {
    const read = async (ep: CopyEndpoint): Promise<ReadBack> => {
      let pg: KanbanPostgres | null = null;
      if (ep.kind === "postgres") {
        pg = await openPostgres(ep.url, { poolSize: 1, ...(opts.warn ? { warn: opts.warn } : {}) });
        pools.push(pg);
      }
      const store = await openSource(ep, opts, pg);
      stores.push(store);
      return store.readSnapshot(digestAll);
    };
    const a = await read(from);
    const b = await read(to);
    const { tables, mismatches } = compareDigests(a, b);
    return { from: from.label, to: to.label, tables, verified: mismatches.length === 0, mismatches };
  } finally {
    for (const s of stores.reverse()) await s.close().catch(() => {});
    for (const p of pools) await p.close().catch(() => {});
  }
}
