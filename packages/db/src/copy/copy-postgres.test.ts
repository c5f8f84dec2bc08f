import util from "node:util";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { forgetInitialised, openDatabase } from "../connection.ts";
import { boardSchemaName, migrateBoardSchema, quoteIdent } from "../pg-board-schema.ts";
import { openPostgres } from "../pg-connection.ts";
import { KANBAN_EVENTS_CHANNEL } from "../pg-listen.ts";
import {
  boardRows,
  copyFixture,
  FLOW_LEDGER_ROWS,
  fixtureWithLedger,
  flowLedgerCounts,
  integrityCheck,
} from "../test/board-rows.ts";
import { rawListener } from "../test/raw-listener.ts";
import { useTempDirs } from "../test/temp-dirs.ts";
import { createTestPgDatabase, type TestPgDatabase } from "../testing-pg.ts";
import { copyBoard } from "./copy-board.ts";
import { isDerivedTable } from "./tables.ts";

/**
 * `kanban db copy` between SQLite files and a real PostgreSQL (the run's server, a database of this
 * file's own): a real Hermes board goes SQLite → PostgreSQL → SQLite and comes back row for row.
 */
const tempDir = useTempDirs("kanban-copy-pg-");
const quiet = { warn: () => {} };
const FIXTURE = "hermes-v3-2026-07-29";

let database: TestPgDatabase;

beforeAll(async () => {
  database = await createTestPgDatabase("kanban_copy");
});

afterAll(async () => {
  await database?.drop();
});

function boardUrl(slug: string, url = database.url): string {
  const u = new URL(url);
  u.searchParams.set("board", slug);
  return u.toString();
}

async function pgQuery<T>(text: string, values: unknown[] = []): Promise<T[]> {
  const db = await openPostgres(database.url, { poolSize: 1 });
  try {
    return (await db.pool.query(text, values)).rows as T[];
  } finally {
    await db.close();
  }
}

/** Writes FLOW_LEDGER_ROWS into a board's schema, creating the schema (migrated) if it is missing. */
async function fillFlowLedger(slug: string): Promise<void> {
  const db = await openPostgres(database.url, { poolSize: 1 });
  try {
    const { schema } = await migrateBoardSchema(db, slug);
    const client = await db.pool.connect();
    try {
      await client.query("BEGIN");
      await client.query(`SET LOCAL search_path TO ${quoteIdent(schema)}`);
      await client.query(FLOW_LEDGER_ROWS);
      await client.query("COMMIT");
    } finally {
      client.release();
    }
  } finally {
    await db.close();
  }
}

/** Row counts of a PostgreSQL board's flow ledger tables (`kanban_flow_*`), by name. */
async function pgFlowLedgerCounts(slug: string): Promise<Record<string, number>> {
  const schema = boardSchemaName(slug);
  const names = (
    await pgQuery<{ name: string }>(
      "SELECT tablename AS name FROM pg_tables WHERE schemaname = $1 ORDER BY tablename",
      [schema],
    )
  )
    .map((r) => r.name)
    .filter(isDerivedTable);
  const out: Record<string, number> = {};
  for (const name of names) {
    const [row] = await pgQuery<{ n: number }>(`SELECT count(*) AS n FROM ${quoteIdent(schema)}.${quoteIdent(name)}`);
    out[name] = Number(row?.n);
  }
  return out;
}

describe("kanban db copy with PostgreSQL", () => {
  it("round-trips a Hermes board SQLite -> PostgreSQL -> SQLite: every table identical, counters kept, integrity ok", async () => {
    const dir = tempDir();
    const source = copyFixture(FIXTURE, dir);
    const toPg = await copyBoard({ from: source, to: boardUrl("roundtrip"), location: { home: dir }, ...quiet });
    expect(toPg.verified).toBe(true);
    expect(toPg.to).toMatch(/^postgres .+ board roundtrip$/);

    const back = path.join(dir, "back.db");
    const fromPg = await copyBoard({ from: boardUrl("roundtrip"), to: back, location: { home: dir }, ...quiet });
    expect(fromPg.verified).toBe(true);
    // The same rows hash the same on both engines: the checksums printed at each hop agree.
    expect(fromPg.tables.map((t) => [t.table, t.rows, t.sha256])).toEqual(
      toPg.tables.map((t) => [t.table, t.rows, t.sha256]),
    );

    expect(boardRows(back)).toEqual(boardRows(source));
    expect(integrityCheck(back)).toEqual(["ok"]);
    forgetInitialised(back);
    openDatabase({ path: back, ...quiet }).close();
  });

  it("keeps 64-bit integers, NULLs and text (JSON spacing, emoji, other scripts) exact through PostgreSQL, and copies PostgreSQL to PostgreSQL", async () => {
    const dir = tempDir();
    const source = copyFixture(FIXTURE, dir);
    openDatabase({ path: source, ...quiet }).close();
    const raw = new Database(source);
    raw.defaultSafeIntegers(true);
    const big = 9_007_199_254_740_993n; // 2^53 + 1: a JS number would round it
    raw
      .prepare("UPDATE tasks SET worker_pid = ?, body = ?, skills = ?, result = NULL WHERE id = 't_3ffd9a8a'")
      .run(big, "naïve — 日本語 🧪\ttab\r\nline", '{ "b" : 1,\n  "a":[ 2 ,3 ] }');
    raw.close();
    await copyBoard({ from: source, to: boardUrl("exact"), location: { home: dir }, ...quiet });
    const onPg = await copyBoard({
      from: boardUrl("exact"),
      to: boardUrl("exact-twin"),
      location: { home: dir },
      ...quiet,
    });
    expect(onPg.verified).toBe(true);
    const back = path.join(dir, "exact.db");
    await copyBoard({ from: boardUrl("exact-twin"), to: back, location: { home: dir }, ...quiet });
    expect(boardRows(back)).toEqual(boardRows(source));
    const check = new Database(back, { readonly: true });
    const row = check
      .prepare("SELECT worker_pid, typeof(worker_pid) AS t, skills, result FROM tasks WHERE id = 't_3ffd9a8a'")
      .safeIntegers(true)
      .get() as { worker_pid: bigint; t: string; skills: string; result: null };
    check.close();
    expect(row).toEqual({ worker_pid: big, t: "integer", skills: '{ "b" : 1,\n  "a":[ 2 ,3 ] }', result: null });
  });

  it("carries remote hosts and task labels (our own tables) SQLite -> PostgreSQL -> SQLite, hashed like Hermes' tables", async () => {
    const dir = tempDir();
    const source = copyFixture(FIXTURE, dir);
    openDatabase({ path: source, ...quiet }).close();
    const raw = new Database(source);
    raw.exec(`
      INSERT INTO kanban_task_requires (task_id, label) VALUES ('t_3ffd9a8a', 'macos'), ('t_3ffd9a8a', 'xcode');
      INSERT INTO kanban_hosts (id, name, labels, version, capacity, running, tenant, first_seen_at, last_seen_at, lease_seconds)
        VALUES ('kh-00000000000000a1', 'mac-1', '["macos","xcode"]', '1.0.0', 4, 1, NULL, 100, 200, 30),
               ('kh-00000000000000b2', NULL, '[]', NULL, NULL, 0, 'acme', 150, 150, 30);
    `);
    raw.close();
    const toPg = await copyBoard({ from: source, to: boardUrl("remote"), location: { home: dir }, ...quiet });
    expect(toPg.verified).toBe(true);
    const counts = Object.fromEntries(toPg.tables.map((t) => [t.table, t.rows]));
    expect(counts).toMatchObject({ kanban_task_requires: 2, kanban_hosts: 2 });
    expect(
      await pgQuery<{ label: string }>(
        `SELECT label FROM ${boardSchemaName("remote")}.kanban_task_requires WHERE task_id = 't_3ffd9a8a' ORDER BY label`,
      ),
    ).toEqual([{ label: "macos" }, { label: "xcode" }]);
    const back = path.join(dir, "remote-back.db");
    const fromPg = await copyBoard({ from: boardUrl("remote"), to: back, location: { home: dir }, ...quiet });
    expect(fromPg.tables.map((t) => [t.table, t.rows, t.sha256])).toEqual(
      toPg.tables.map((t) => [t.table, t.rows, t.sha256]),
    );
    expect(boardRows(back)).toEqual(boardRows(source));
  });

  it("advances PostgreSQL's identity sequences, so a new row after the copy gets a fresh id", async () => {
    const dir = tempDir();
    const source = copyFixture(FIXTURE, dir);
    openDatabase({ path: source, ...quiet }).close();
    const raw = new Database(source);
    // The newest event was deleted on the source: its id must not be handed out again either.
    const top = (raw.prepare("SELECT max(id) AS id FROM task_events").get() as { id: number }).id;
    raw.prepare("DELETE FROM task_events WHERE id = ?").run(top);
    raw.close();
    await copyBoard({ from: source, to: boardUrl("sequences"), location: { home: dir }, ...quiet });
    const schema = boardSchemaName("sequences");
    const [row] = await pgQuery<{ id: number }>(
      `INSERT INTO "${schema}".task_events (task_id, kind, created_at) VALUES ('t_new', 'created', 1) RETURNING id`,
    );
    expect(row?.id).toBe(top + 1);
  });

  it("leaves the planner's statistics current: each copied table is analyzed, with its row count", async () => {
    const dir = tempDir();
    const source = copyFixture(FIXTURE, dir);
    await copyBoard({ from: source, to: boardUrl("analyzed"), location: { home: dir }, ...quiet });
    const schema = boardSchemaName("analyzed");
    const rows = await pgQuery<{ relname: string; reltuples: number; n: number }>(
      `SELECT c.relname, c.reltuples,
              (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I.%I', $1::text, c.relname), false, true, '')))[1]::text::bigint AS n
         FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
        WHERE s.nspname = $1 AND c.relname IN ('tasks', 'task_events', 'task_runs', 'task_links', 'task_comments')`,
      [schema],
    );
    expect(rows).toHaveLength(5);
    // Never analyzed, reltuples is -1; analyzed, it is the table's row count (every row is sampled
    // at this size).
    for (const r of rows)
      expect({ table: r.relname, rows: Number(r.reltuples) }).toEqual({ table: r.relname, rows: Number(r.n) });
    expect(rows.find((r) => r.relname === "tasks")?.n).toBeGreaterThan(0);
  });

  it("announces the copied events at its commit, so the board's live listeners wake at once", async () => {
    const dir = tempDir();
    const source = copyFixture(FIXTURE, dir);
    const listener = await rawListener(database.url);
    try {
      await copyBoard({ from: source, to: boardUrl("announced"), location: { home: dir }, ...quiet });
      const schema = boardSchemaName("announced");
      const [top] = await pgQuery<{ id: number }>(`SELECT max(id) AS id FROM ${quoteIdent(schema)}.task_events`);
      // A NOTIFY sent after the copy returned arrives after the copy's own (delivery is in commit order).
      await pgQuery("SELECT pg_notify($1, 'sentinel')", [KANBAN_EVENTS_CHANNEL]);
      await listener.waitFor("sentinel");
      expect(listener.payloads.filter((p) => p !== "sentinel").map((p) => JSON.parse(p))).toEqual([
        { schema, id: Number(top?.id) },
      ]);
    } finally {
      await listener.end();
    }
  });

  it("refuses a non-empty PostgreSQL board in one line and leaves it as it was; --replace overwrites it", async () => {
    const dir = tempDir();
    const v3 = copyFixture(FIXTURE, dir);
    const v1 = copyFixture("hermes-v1-2026-04-30", dir);
    const first = await copyBoard({ from: v1, to: boardUrl("busy"), location: { home: dir }, ...quiet });
    const err = await copyBoard({ from: v3, to: boardUrl("busy"), location: { home: dir }, ...quiet }).then(
      () => null,
      (e: Error & { code?: string }) => e,
    );
    expect(err?.code).toBe("COPY_TARGET_NOT_EMPTY");
    expect(err?.message).toMatch(/board busy already holds a board \(tasks: 37, .*\); pass --replace to overwrite it$/);
    // Still exactly the first copy: verify it against its source.
    const again = path.join(dir, "again.db");
    const check = await copyBoard({ from: boardUrl("busy"), to: again, location: { home: dir }, ...quiet });
    expect(check.tables.map((t) => t.sha256)).toEqual(first.tables.map((t) => t.sha256));

    const replaced = await copyBoard({
      from: v3,
      to: boardUrl("busy"),
      location: { home: dir },
      replace: true,
      ...quiet,
    });
    expect(replaced.verified).toBe(true);
    expect(replaced.tables.find((t) => t.table === "tasks")?.rows).toBe(39);
  });

  it("leaves the flow ledger behind (derived) in both directions, and empties the target's, with and without --replace", async () => {
    const dir = tempDir();
    const { source, filled, empty } = fixtureWithLedger(FIXTURE, dir);
    expect(Object.keys(filled)).toHaveLength(5);

    // A board whose kernel already wrote a ledger but which holds no board rows: not refused.
    await fillFlowLedger("ledger");
    expect(await pgFlowLedgerCounts("ledger")).toEqual(filled);
    const toPg = await copyBoard({ from: source, to: boardUrl("ledger"), location: { home: dir }, ...quiet });
    expect(toPg.verified).toBe(true);
    expect(toPg.tables.map((t) => t.table).filter(isDerivedTable)).toEqual([]);
    expect(await pgFlowLedgerCounts("ledger")).toEqual(empty);

    // Its kernel rebuilt the ledger since; --replace empties it again.
    await fillFlowLedger("ledger");
    const replaced = await copyBoard({
      from: source,
      to: boardUrl("ledger"),
      location: { home: dir },
      replace: true,
      ...quiet,
    });
    expect(replaced.verified).toBe(true);
    expect(await pgFlowLedgerCounts("ledger")).toEqual(empty);

    // And back: a PostgreSQL board's ledger is not copied into a file either.
    await fillFlowLedger("ledger");
    const back = path.join(dir, "ledger-back.db");
    const fromPg = await copyBoard({ from: boardUrl("ledger"), to: back, location: { home: dir }, ...quiet });
    expect(fromPg.verified).toBe(true);
    expect(flowLedgerCounts(back)).toEqual(empty);
    expect(boardRows(back)).toEqual(boardRows(source));
  });

  it("reports a row changed on the target between the commit and the read-back", async () => {
    const dir = tempDir();
    const source = copyFixture(FIXTURE, dir);
    const schema = boardSchemaName("tampered");
    const report = await copyBoard({
      from: source,
      to: boardUrl("tampered"),
      location: { home: dir },
      ...quiet,
      afterCommit: async () => {
        await pgQuery(
          `UPDATE "${schema}".tasks SET title = title || '!' WHERE id = (SELECT min(id) FROM "${schema}".tasks)`,
        );
      },
    });
    expect(report.verified).toBe(false);
    expect(report.mismatches).toEqual([
      expect.stringMatching(/^tasks: the target has 39 rows \(sha256 [0-9a-f]{16}\), the source 39/),
    ]);
  });

  it("refuses a value PostgreSQL cannot hold exactly, writes nothing and drops the schema it created", async () => {
    const dir = tempDir();
    const source = copyFixture(FIXTURE, dir);
    openDatabase({ path: source, ...quiet }).close();
    const raw = new Database(source);
    raw
      .prepare("UPDATE task_comments SET body = ? WHERE id = (SELECT min(id) FROM task_comments)")
      .run("nul\u0000byte");
    raw.close();
    const err = await copyBoard({ from: source, to: boardUrl("nul"), location: { home: dir }, ...quiet }).then(
      () => null,
      (e: Error & { code?: string }) => e,
    );
    expect(err?.code).toBe("COPY_UNSUPPORTED");
    expect(err?.message).toMatch(
      /^task_comments\.body of the row id=\d+ .*cannot hold a NUL character; nothing was copied$/,
    );
    const schemas = await pgQuery<{ n: string }>("SELECT count(*) AS n FROM pg_namespace WHERE nspname = $1", [
      boardSchemaName("nul"),
    ]);
    expect(Number(schemas[0]?.n)).toBe(0);
  });

  it("never shows the password: a wrong one, an unreachable server", async () => {
    const dir = tempDir();
    const source = copyFixture(FIXTURE, dir);
    const secret = "Wr0ng-s3cret-PW";
    const wrong = new URL(database.url);
    wrong.password = secret;
    const unreachable = new URL(wrong.toString());
    unreachable.port = "1";
    for (const [url, code] of [
      [wrong.toString(), "DB_AUTH_FAILED"],
      [unreachable.toString(), "DB_UNREACHABLE"],
    ] as const) {
      for (const [from, to] of [
        [source, boardUrl("secret", url)],
        [boardUrl("secret", url), path.join(dir, "x.db")],
      ]) {
        const err = await copyBoard({ from: from as string, to: to as string, location: { home: dir }, ...quiet }).then(
          () => null,
          (e: Error & { code?: string }) => e,
        );
        expect(err?.code).toBe(code);
        expect(err?.message).not.toContain("\n");
        expect(util.inspect(err, { depth: 10 })).not.toContain(secret);
      }
    }
  });
});
