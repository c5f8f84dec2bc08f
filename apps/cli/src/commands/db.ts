import type { VerifyBoardsReport } from "@kanban/api";
import type { Deps } from "../deps.ts";
import { EXIT } from "../errors.ts";
import { table, toJson } from "../output.ts";
import type { Register } from "./register.ts";

export interface DbCopyOptions {
  replace?: boolean;
  json?: boolean;
}

/**
 * `kanban db copy <from> <to>`: moves a whole board between SQLite files and PostgreSQL, then reads
 * the target back and compares every table's count and checksum with the source's. It always works
 * on the files and servers this machine reaches, never through KANBAN_URL: it is the operator's tool
 * for moving a board, not a call on a running board's API.
 */
export async function runDbCopy(deps: Deps, from: string, to: string, opts: DbCopyOptions): Promise<number> {
  const api = await import("@kanban/api");
  const report = await api.copyBoard({
    from,
    to,
    location: api.boardLocationFromEnv(deps.config.env),
    defaultBoard: deps.config.board,
    replace: opts.replace ?? false,
    warn: (message) => deps.io.err(`kanban: warning: ${message}`),
  });
  return printReport(
    deps,
    report,
    opts.json ?? false,
    `${report.replaced ? "Replaced" : "Copied"} ${report.from} -> ${report.to}`,
  );
}

/** `kanban db verify <a> <b>`: compares two existing boards table by table, writing neither. */
export async function runDbVerify(deps: Deps, from: string, to: string, opts: { json?: boolean }): Promise<number> {
  const api = await import("@kanban/api");
  const report = await api.verifyBoards({
    from,
    to,
    location: api.boardLocationFromEnv(deps.config.env),
    defaultBoard: deps.config.board,
    warn: (message) => deps.io.err(`kanban: warning: ${message}`),
  });
  return printReport(deps, report, opts.json ?? false, `Compared ${report.from} with ${report.to}`);
}

type Report = VerifyBoardsReport & { skippedColumns?: string[] };

/** The table of counts and checksums (or the JSON report); a table that differs is one stderr line and exit 1. */
function printReport(deps: Deps, report: Report, json: boolean, heading: string): number {
  if (json) {
    deps.io.out(toJson(report));
  } else {
    deps.io.out(heading);
    const rows = [["TABLE", "ROWS", "SHA256", "NEXT ID", "TARGET"]];
    for (const t of report.tables) {
      rows.push([
        t.table,
        String(t.rows),
        t.sha256.slice(0, 16),
        t.sequence === null ? "-" : String(BigInt(t.sequence.target) + 1n),
        t.ok ? "same" : "DIFFERS",
      ]);
    }
    for (const line of table(rows)) deps.io.out(line);
    if (report.skippedColumns && report.skippedColumns.length > 0) {
      deps.io.out(
        `Not copied: ${report.skippedColumns.join(", ")} (legacy Hermes columns; their values are in their successors)`,
      );
    }
    if (report.verified) {
      const total = report.tables.reduce((n, t) => n + t.rows, 0);
      deps.io.out(`Verified: the target reads back ${report.tables.length} tables, ${total} rows, identical checksums`);
    }
  }
  if (!report.verified) {
    for (const line of report.mismatches) deps.io.err(`kanban: ${line}`);
    return EXIT.failed;
  }
  return EXIT.ok;
}

export const registerDb: Register = (program, act) => {
  const db = program
    .command("db")
    .summary("move a whole board between SQLite files and PostgreSQL")
    .description(
      "Board databases as a whole: `kanban db copy` moves a board between SQLite and PostgreSQL, `kanban db verify` compares two boards.",
    );

  db.command("copy")
    .summary("copy a whole board, then verify counts and checksums per table")
    .description(
      "Copy every task, link, run, event, comment, attachment and notify subscription of one board, in one " +
        "transaction on the target, then read the target back and compare each table's row count and sha256. " +
        "<from> and <to> are each a board file (a path: ~/.hermes/kanban.db, ./copy.db), a board slug under " +
        "KANBAN_HOME, or postgres://user:password@host:5432/database?board=<slug> (without ?board=, the board " +
        "of --board/KANBAN_BOARD, else default). A missing target file, board or schema is created; a target " +
        "that holds rows is refused unless --replace. Exit 1 if any table differs (one line each).",
    )
    .argument("<from>", "the source board: file, slug or postgres:// URL")
    .argument("<to>", "the target board: file, slug or postgres:// URL")
    .option("--replace", "empty a non-empty target first (in the same transaction)")
    .option("--json", "print the report as JSON")
    .action(act((deps, from: string, to: string, opts: DbCopyOptions) => runDbCopy(deps, from, to, opts)));

  db.command("verify")
    .summary("compare two boards table by table (counts, checksums), writing neither")
    .description(
      "Read two existing boards (in the forms `db copy` takes) and compare each table's row count, sha256 and " +
        "next id, as `db copy` does after copying. Exit 1 if any table differs (one line each).",
    )
    .argument("<from>", "the reference board: file, slug or postgres:// URL")
    .argument("<to>", "the board compared with it")
    .option("--json", "print the report as JSON")
    .action(act((deps, from: string, to: string, opts: { json?: boolean }) => runDbVerify(deps, from, to, opts)));
};
