import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { forgetInitialised, openDatabase } from "./connection.ts";
import { migrateDatabase } from "./migrate.ts";
import { dumpRows } from "./testing.ts";
import { migrationsUpTo as migrationsUpToIn } from "./test/migrations-up-to.ts";
import { useTempDirs } from "./test/temp-dirs.ts";

/**
 * `PRAGMA table_info` of our boards, raw (no normalisation), against boards Hermes' own Python
 * kernel wrote (`../shared/fixtures`): a Hermes test compares a rebuilt schema with a fresh one.
 */
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const fixturesDir = path.resolve(repoRoot, "..", "shared", "fixtures");
const NEWEST_FIXTURE = path.join(fixturesDir, "hermes-v3-2026-07-29.db");
const OLDEST_FIXTURE = path.join(fixturesDir, "hermes-v1-2026-04-30.db");
const HERMES_TABLES = [
  "kanban_notify_subs",
  "task_attachments",
  "task_comments",
  "task_events",
  "task_links",
  "task_runs",
  "tasks",
];

interface RawColumn {
  name: string;
  type: string;
  notnull: number;
  dflt_value: string | null;
  pk: number;
}

/** Column by column, keyed by name (physical order follows migration history on upgraded boards). */
function tableInfo(sqlite: Database.Database, tables = HERMES_TABLES): Record<string, RawColumn[]> {
  const out: Record<string, RawColumn[]> = {};
  for (const table of tables) {
    const cols = sqlite
      .prepare(`SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?)`)
      .all(table) as RawColumn[];
    out[table] = cols.sort((a, b) => a.name.localeCompare(b.name));
  }
  return out;
}

/**
 * Columns of Hermes' newest shape (spec §1.3 and §1.8, marked [B]) that the newest fixture predates,
 * declared as the spec gives them.
 */
const NEWER_HERMES_COLUMNS: Record<string, RawColumn[]> = {
  kanban_notify_subs: [
    { name: "last_ping_event_id", type: "INTEGER", notnull: 1, dflt_value: "0", pk: 0 },
    { name: "delivery_mode", type: "TEXT", notnull: 1, dflt_value: "'notify'", pk: 0 },
    { name: "user_id_alt", type: "TEXT", notnull: 0, dflt_value: null, pk: 0 },
  ],
  tasks: [
    { name: "reasoning_effort", type: "TEXT", notnull: 0, dflt_value: null, pk: 0 },
    { name: "completion_contract", type: "TEXT", notnull: 0, dflt_value: null, pk: 0 },
  ],
};

/** The newest fixture's table_info, completed with the newer columns above. */
function hermesTableInfo(): Record<string, RawColumn[]> {
  const sqlite = new Database(NEWEST_FIXTURE, { readonly: true });
  try {
    const info = tableInfo(sqlite);
    for (const [table, extra] of Object.entries(NEWER_HERMES_COLUMNS)) {
      info[table] = [...(info[table] ?? []), ...extra].sort((a, b) => a.name.localeCompare(b.name));
    }
    return info;
  } finally {
    sqlite.close();
  }
}

const tempDir = useTempDirs();

/** A copy of the committed migrations up to `lastTag`: a board as an older release left it. */
function migrationsUpTo(lastTag: string): string {
  return migrationsUpToIn(tempDir(), lastTag);
}

function indexDefinitions(sqlite: Database.Database): { name: string; sql: string | null }[] {
  return sqlite.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name").all() as {
    name: string;
    sql: string | null;
  }[];
}

describe("column declarations match Hermes' (issue 28)", () => {
  it("a new board's PRAGMA table_info equals a Hermes board's, column by column", () => {
    const file = path.join(tempDir(), "kanban.db");
    const db = openDatabase({ path: file, warn: () => {} });
    const ours = tableInfo(db.sqlite);
    db.close();
    const hermes = hermesTableInfo();
    for (const table of HERMES_TABLES) expect(ours[table], table).toEqual(hermes[table]);
    // The five ids in particular: a PRIMARY KEY without NOT NULL, as Hermes declares them.
    for (const table of ["tasks", "task_comments", "task_events", "task_runs", "task_attachments"]) {
      expect(
        ours[table]?.find((c) => c.name === "id"),
        table,
      ).toMatchObject({ notnull: 0, pk: 1 });
    }
  });

  it("Hermes boards, old and new, upgraded here end with Hermes' declarations", () => {
    const hermes = hermesTableInfo();
    for (const fixture of [OLDEST_FIXTURE, NEWEST_FIXTURE]) {
      const file = path.join(tempDir(), "kanban.db");
      fs.copyFileSync(fixture, file);
      forgetInitialised(file);
      const db = openDatabase({ path: file, warn: () => {} });
      const ours = tableInfo(db.sqlite);
      db.close();
      for (const table of HERMES_TABLES) {
        // An upgraded old board may keep legacy columns (never dropped); every Hermes column must match.
        const byName = new Map((ours[table] ?? []).map((c) => [c.name, c]));
        for (const col of hermes[table] ?? [])
          expect(byName.get(col.name), `${path.basename(fixture)} ${table}.${col.name}`).toEqual(col);
      }
    }
  });

  it("migration 0003 rewrites a board made by an older release in place: rows, indexes and AUTOINCREMENT counters kept", () => {
    const file = path.join(tempDir(), "kanban.db");
    const old = openDatabase({
      path: file,
      warn: () => {},
      migrationsFolder: migrationsUpTo("0002_board_read_indexes"),
    });
    expect(
      old.sqlite.prepare("SELECT \"notnull\" AS n FROM pragma_table_info('tasks') WHERE name = 'id'").get(),
    ).toEqual({ n: 1 });
    old.sqlite.exec(`
      INSERT INTO tasks (id, title, status, created_at) VALUES ('t_a', 'first', 'ready', 1), ('t_b', 'second', 'done', 2);
      INSERT INTO task_comments (task_id, author, body, created_at) VALUES ('t_a', 'me', 'hi', 3), ('t_a', 'me', 'again', 4);
      INSERT INTO task_events (task_id, kind, created_at) VALUES ('t_a', 'created', 1), ('t_b', 'created', 2), ('t_b', 'completed', 5);
      INSERT INTO task_runs (task_id, status, started_at) VALUES ('t_b', 'done', 2);
      INSERT INTO task_attachments (task_id, filename, stored_path, created_at) VALUES ('t_a', 'a.txt', '/x/a.txt', 3);
      DELETE FROM task_events WHERE id = 3; -- AUTOINCREMENT must not hand out 3 again
    `);
    const rows = dumpRows(old.sqlite);
    const sequences = old.sqlite.prepare("SELECT name, seq FROM sqlite_sequence ORDER BY name").all();
    const indexes = indexDefinitions(old.sqlite);
    // A second connection that stays open across the migration sees the new declarations too.
    const bystander = new Database(file);
    expect(bystander.prepare("SELECT count(*) AS n FROM tasks").get()).toEqual({ n: 2 });
    old.close();

    forgetInitialised(file);
    // Up to 0003 only: later migrations add tables and indexes of their own (tested below).
    const db = openDatabase({
      path: file,
      warn: () => {},
      migrationsFolder: migrationsUpTo("0003_hermes_declarations"),
    });
    expect(dumpRows(db.sqlite)).toEqual({ ...rows, __drizzle_migrations: expect.any(Array) });
    expect(db.sqlite.prepare("SELECT name, seq FROM sqlite_sequence ORDER BY name").all()).toEqual(sequences);
    expect(indexDefinitions(db.sqlite)).toEqual(indexes);
    expect(db.sqlite.pragma("integrity_check", { simple: true })).toBe("ok");
    const hermes = hermesTableInfo();
    const ours = tableInfo(db.sqlite);
    for (const table of HERMES_TABLES) expect(ours[table], table).toEqual(hermes[table]);
    expect(tableInfo(bystander)).toEqual(ours);
    expect(
      db.sqlite
        .prepare("INSERT INTO task_events (task_id, kind, created_at) VALUES ('t_a', 'x', 6) RETURNING id")
        .get(),
    ).toEqual({ id: 4 });
    expect(db.sqlite.prepare("SELECT name FROM sqlite_master WHERE name LIKE '%cookie_bump%'").all()).toEqual([]);
    bystander.close();
    db.close();
  });

  it("applies migration 0003 in one transaction: a failure leaves the declarations and the journal as they were", () => {
    const file = path.join(tempDir(), "kanban.db");
    const old = openDatabase({
      path: file,
      warn: () => {},
      migrationsFolder: migrationsUpTo("0002_board_read_indexes"),
    });
    // Make the migration's last statement fail.
    old.sqlite.exec("CREATE TABLE `__kanban_schema_cookie_bump` (`x` INTEGER)");
    const schemaBefore = old.sqlite.prepare("SELECT type, name, sql FROM sqlite_master ORDER BY type, name").all();
    const journalBefore = old.sqlite.prepare("SELECT * FROM __drizzle_migrations").all();
    expect(() => migrateDatabase(old.sqlite)).toThrow(/__kanban_schema_cookie_bump/);
    expect(old.sqlite.prepare("SELECT type, name, sql FROM sqlite_master ORDER BY type, name").all()).toEqual(
      schemaBefore,
    );
    expect(old.sqlite.prepare("SELECT * FROM __drizzle_migrations").all()).toEqual(journalBefore);
    expect(old.sqlite.inTransaction).toBe(false);
    // Defensive mode is back on afterwards: sqlite_schema cannot be written by ordinary statements.
    old.sqlite.exec("PRAGMA writable_schema = ON");
    expect(() => old.sqlite.exec("UPDATE sqlite_master SET sql = sql WHERE name = 'tasks'")).toThrow(
      /may not be modified/,
    );
    old.sqlite.exec("PRAGMA writable_schema = OFF");
    old.close();
  });
});

/** The tables of migration 0008 (issue 20), empty after any upgrade that reaches it. */
const GATE_TABLES = { kanban_evidence: [], kanban_gates: [], kanban_verifications: [] };
/** The table of migration 0009 (issue 19), empty after any upgrade that reaches it. */
const VIEW_TABLES = { kanban_views: [] };
/** The tables of migration 0010 (issue 21), empty after any upgrade that reaches it (the kernel fills them). */
const FLOW_TABLES = {
  kanban_flow_blocks: [],
  kanban_flow_cards: [],
  kanban_flow_hist: [],
  kanban_flow_ready: [],
  kanban_flow_state: [],
};

describe("migration 0004: remote hosts and task labels (issue 15)", () => {
  it("adds kanban_hosts and kanban_task_requires to a board of the previous release, Hermes' tables and rows untouched", () => {
    const file = path.join(tempDir(), "kanban.db");
    const old = openDatabase({
      path: file,
      warn: () => {},
      migrationsFolder: migrationsUpTo("0003_hermes_declarations"),
    });
    old.sqlite.exec(`
      INSERT INTO tasks (id, title, status, created_at) VALUES ('t_a', 'first', 'ready', 1);
      INSERT INTO task_events (task_id, kind, created_at) VALUES ('t_a', 'created', 1);
    `);
    const rows = dumpRows(old.sqlite);
    const hermesBefore = tableInfo(old.sqlite);
    expect(old.sqlite.prepare("SELECT name FROM sqlite_master WHERE name = 'kanban_hosts'").all()).toEqual([]);
    old.close();

    forgetInitialised(file);
    const db = openDatabase({ path: file, warn: () => {} });
    expect(dumpRows(db.sqlite)).toEqual({
      ...rows,
      kanban_hosts: [],
      kanban_task_requires: [],
      kanban_incidents: [],
      kanban_notify_rules: [],
      kanban_notify_deliveries: [],
      kanban_usage: [],
      kanban_budgets: [],
      ...GATE_TABLES,
      ...VIEW_TABLES,
      ...FLOW_TABLES,
      __drizzle_migrations: expect.any(Array),
    });
    // Hermes' tables, `tasks` above all, stay column for column Hermes'.
    expect(tableInfo(db.sqlite)).toEqual(hermesBefore);
    expect(tableInfo(db.sqlite, ["kanban_task_requires"]).kanban_task_requires?.map((c) => [c.name, c.pk])).toEqual([
      ["label", 2],
      ["task_id", 1],
    ]);
    db.sqlite.exec("INSERT INTO kanban_task_requires (task_id, label) VALUES ('t_a', 'macos')");
    expect(() => db.sqlite.exec("INSERT INTO kanban_task_requires (task_id, label) VALUES ('t_a', 'macos')")).toThrow(
      /UNIQUE/,
    );
    expect(
      tableInfo(db.sqlite, ["kanban_hosts"])
        .kanban_hosts?.filter((c) => c.notnull === 1)
        .map((c) => c.name),
    ).toEqual(["first_seen_at", "last_seen_at", "lease_seconds", "running"]);
    db.close();
  });
});

describe("migration 0005: incidents, subscription rules and the delivery log (issue 17)", () => {
  it("adds the three tables to a board of the previous release, every row before it untouched", () => {
    const file = path.join(tempDir(), "kanban.db");
    const old = openDatabase({
      path: file,
      warn: () => {},
      migrationsFolder: migrationsUpTo("0004_hosts_and_requires"),
    });
    old.sqlite.exec(`
      INSERT INTO tasks (id, title, status, created_at) VALUES ('t_a', 'first', 'ready', 1);
      INSERT INTO kanban_task_requires (task_id, label) VALUES ('t_a', 'gpu');
      INSERT INTO kanban_notify_subs (task_id, platform, chat_id, created_at) VALUES ('t_a', 'webhook', 'ops', 1);
    `);
    const rows = dumpRows(old.sqlite);
    const before = tableInfo(old.sqlite, [...HERMES_TABLES, "kanban_hosts", "kanban_task_requires"]);
    expect(old.sqlite.prepare("SELECT name FROM sqlite_master WHERE name = 'kanban_incidents'").all()).toEqual([]);
    old.close();

    forgetInitialised(file);
    const db = openDatabase({ path: file, warn: () => {} });
    expect(dumpRows(db.sqlite)).toEqual({
      ...rows,
      kanban_incidents: [],
      kanban_notify_rules: [],
      kanban_notify_deliveries: [],
      kanban_usage: [],
      kanban_budgets: [],
      ...GATE_TABLES,
      ...VIEW_TABLES,
      ...FLOW_TABLES,
      __drizzle_migrations: expect.any(Array),
    });
    expect(tableInfo(db.sqlite, [...HERMES_TABLES, "kanban_hosts", "kanban_task_requires"])).toEqual(before);
    // A rule is unique on its scope and destination; incidents and deliveries number themselves.
    const rule =
      "INSERT INTO kanban_notify_rules (scope, platform, chat_id, created_at) VALUES ('board', 'slack', 'ops', 1)";
    db.sqlite.exec(rule);
    expect(() => db.sqlite.exec(rule)).toThrow(/UNIQUE/);
    const incident = db.sqlite
      .prepare(
        "INSERT INTO kanban_incidents (scope, scope_key, failure_class, opened_at) VALUES ('profile', 'coder', 'transient', 5) RETURNING id, failures, probes, closed_at",
      )
      .get();
    expect(incident).toEqual({ id: 1, failures: 0, probes: 0, closed_at: null });
    db.close();
  });
});

describe("migration 0006: usage reports (issue 21)", () => {
  it("adds kanban_usage to a board of the previous release, every table before it untouched", () => {
    const file = path.join(tempDir(), "kanban.db");
    const old = openDatabase({
      path: file,
      warn: () => {},
      migrationsFolder: migrationsUpTo("0005_incidents_and_notify_rules"),
    });
    old.sqlite.exec(`
      INSERT INTO tasks (id, title, status, created_at) VALUES ('t_a', 'first', 'ready', 1);
      INSERT INTO kanban_incidents (scope, scope_key, failure_class, opened_at) VALUES ('profile', 'coder', 'transient', 5);
    `);
    const rows = dumpRows(old.sqlite);
    const ours = ["kanban_hosts", "kanban_task_requires", "kanban_incidents", "kanban_notify_rules"];
    const before = tableInfo(old.sqlite, [...HERMES_TABLES, ...ours]);
    expect(old.sqlite.prepare("SELECT name FROM sqlite_master WHERE name = 'kanban_usage'").all()).toEqual([]);
    old.close();

    forgetInitialised(file);
    const db = openDatabase({ path: file, warn: () => {} });
    expect(dumpRows(db.sqlite)).toEqual({
      ...rows,
      kanban_usage: [],
      kanban_budgets: [],
      ...GATE_TABLES,
      ...VIEW_TABLES,
      ...FLOW_TABLES,
      __drizzle_migrations: expect.any(Array),
    });
    expect(tableInfo(db.sqlite, [...HERMES_TABLES, ...ours])).toEqual(before);
    // Token counts default to 0; the cost stays NULL until someone knows it (never a made-up 0).
    const row = db.sqlite
      .prepare(
        "INSERT INTO kanban_usage (task_id, via, reported_at) VALUES ('t_a', 'report', 9) RETURNING id, tokens_in, tokens_out, cache_read, cache_write, cost_micro_usd",
      )
      .get();
    expect(row).toEqual({ id: 1, tokens_in: 0, tokens_out: 0, cache_read: 0, cache_write: 0, cost_micro_usd: null });
    db.close();
  });
});

describe("migration 0007: budgets (issue 21)", () => {
  it("adds kanban_budgets to a board of the previous release, its usage reports untouched", () => {
    const file = path.join(tempDir(), "kanban.db");
    const old = openDatabase({ path: file, warn: () => {}, migrationsFolder: migrationsUpTo("0006_usage") });
    old.sqlite.exec(`
      INSERT INTO tasks (id, title, status, created_at) VALUES ('t_a', 'first', 'ready', 1);
      INSERT INTO kanban_usage (task_id, via, cost_micro_usd, reported_at) VALUES ('t_a', 'report', 1250000, 9);
    `);
    const rows = dumpRows(old.sqlite);
    const ours = ["kanban_hosts", "kanban_task_requires", "kanban_incidents", "kanban_notify_rules", "kanban_usage"];
    const before = tableInfo(old.sqlite, [...HERMES_TABLES, ...ours]);
    expect(old.sqlite.prepare("SELECT name FROM sqlite_master WHERE name = 'kanban_budgets'").all()).toEqual([]);
    old.close();

    forgetInitialised(file);
    const db = openDatabase({ path: file, warn: () => {} });
    expect(dumpRows(db.sqlite)).toEqual({
      ...rows,
      kanban_budgets: [],
      ...GATE_TABLES,
      ...VIEW_TABLES,
      ...FLOW_TABLES,
      __drizzle_migrations: expect.any(Array),
    });
    expect(tableInfo(db.sqlite, [...HERMES_TABLES, ...ours])).toEqual(before);
    // The operator's budget is tenant '' (not NULL), so a second one of the same scope is refused.
    const insert = db.sqlite.prepare(
      "INSERT INTO kanban_budgets (scope, scope_key, limit_micro_usd, updated_at) VALUES ('board', '*', 5000000, 9) RETURNING tenant, warn_percent, allowance_micro_usd, warned_period",
    );
    expect(insert.get()).toEqual({ tenant: "", warn_percent: 80, allowance_micro_usd: 0, warned_period: null });
    expect(() => insert.get()).toThrow(/UNIQUE/);
    db.close();
  });
});

describe("migration 0008: completion gates (issue 20)", () => {
  it("adds the gate, verification and evidence tables to a board of the previous release, every row before it untouched", () => {
    const file = path.join(tempDir(), "kanban.db");
    const old = openDatabase({ path: file, warn: () => {}, migrationsFolder: migrationsUpTo("0007_budgets") });
    old.sqlite.exec(`
      INSERT INTO tasks (id, title, status, created_at) VALUES ('t_a', 'first', 'review', 1);
      INSERT INTO kanban_budgets (scope, scope_key, limit_micro_usd, updated_at) VALUES ('board', '*', 5000000, 9);
    `);
    const rows = dumpRows(old.sqlite);
    const before = tableInfo(old.sqlite, [...HERMES_TABLES, "kanban_usage", "kanban_budgets"]);
    old.close();

    forgetInitialised(file);
    const db = openDatabase({ path: file, warn: () => {} });
    expect(dumpRows(db.sqlite)).toEqual({
      ...rows,
      ...GATE_TABLES,
      ...VIEW_TABLES,
      ...FLOW_TABLES,
      __drizzle_migrations: expect.any(Array),
    });
    expect(tableInfo(db.sqlite, [...HERMES_TABLES, "kanban_usage", "kanban_budgets"])).toEqual(before);
    // One gate spec per scope and key; one round per card.
    const gate = db.sqlite.prepare(
      "INSERT INTO kanban_gates (scope, scope_key, spec, updated_at) VALUES ('card', 't_a', '{}', 9)",
    );
    gate.run();
    expect(() => gate.run()).toThrow(/UNIQUE/);
    const round = db.sqlite.prepare(
      "INSERT INTO kanban_verifications (task_id, round, stage, started_at) VALUES ('t_a', 1, 'commands', 9)",
    );
    round.run();
    expect(() => round.run()).toThrow(/UNIQUE|PRIMARY/);
    db.close();
  });
});

describe("migration 0009: saved views (issue 19)", () => {
  it("adds kanban_views to a board of the previous release, every row before it untouched", () => {
    const file = path.join(tempDir(), "kanban.db");
    const old = openDatabase({ path: file, warn: () => {}, migrationsFolder: migrationsUpTo("0008_gates") });
    old.sqlite.exec(`
      INSERT INTO tasks (id, title, status, created_at) VALUES ('t_a', 'first', 'ready', 1);
      INSERT INTO kanban_gates (scope, scope_key, spec, updated_at) VALUES ('card', 't_a', '{}', 9);
    `);
    const rows = dumpRows(old.sqlite);
    const before = tableInfo(old.sqlite, [...HERMES_TABLES, "kanban_gates"]);
    old.close();

    forgetInitialised(file);
    const db = openDatabase({ path: file, warn: () => {} });
    expect(dumpRows(db.sqlite)).toEqual({
      ...rows,
      ...VIEW_TABLES,
      ...FLOW_TABLES,
      __drizzle_migrations: expect.any(Array),
    });
    expect(tableInfo(db.sqlite, [...HERMES_TABLES, "kanban_gates"])).toEqual(before);
    // One view per owner and name; the operator's owner is '' (not NULL), so it is as unique.
    const save = db.sqlite.prepare(
      "INSERT INTO kanban_views (name, query, updated_at) VALUES ('mine', '{}', 9) RETURNING tenant, created_by",
    );
    expect(save.get()).toEqual({ tenant: "", created_by: null });
    expect(() => save.get()).toThrow(/UNIQUE/);
    db.sqlite.exec("INSERT INTO kanban_views (name, tenant, query, updated_at) VALUES ('mine', 'acme', '{}', 9)");
    db.close();
  });
});

describe("migration 0010: flow ledger (issue 21)", () => {
  it("adds the five flow ledger tables, empty, to a board of the previous release, every row before it untouched", () => {
    const file = path.join(tempDir(), "kanban.db");
    const old = openDatabase({ path: file, warn: () => {}, migrationsFolder: migrationsUpTo("0009_views") });
    old.sqlite.exec(`
      INSERT INTO tasks (id, title, status, created_at, completed_at) VALUES ('t_a', 'first', 'done', 1, 5);
      INSERT INTO task_events (task_id, kind, created_at) VALUES ('t_a', 'completed', 5);
      INSERT INTO kanban_views (name, query, updated_at) VALUES ('mine', '{}', 9);
    `);
    const rows = dumpRows(old.sqlite);
    const ours = ["kanban_usage", "kanban_budgets", "kanban_gates", "kanban_views"];
    const before = tableInfo(old.sqlite, [...HERMES_TABLES, ...ours]);
    expect(old.sqlite.prepare("SELECT name FROM sqlite_master WHERE name LIKE 'kanban_flow%'").all()).toEqual([]);
    old.close();

    forgetInitialised(file);
    const db = openDatabase({ path: file, warn: () => {} });
    expect(dumpRows(db.sqlite)).toEqual({ ...rows, ...FLOW_TABLES, __drizzle_migrations: expect.any(Array) });
    expect(tableInfo(db.sqlite, [...HERMES_TABLES, ...ours])).toEqual(before);
    // The ledger's one state row; a done card's tenant is '' unless given, its cycle NULL until known.
    db.sqlite.exec("INSERT INTO kanban_flow_state (id, version, event_id) VALUES (1, 1, 0)");
    expect(() => db.sqlite.exec("INSERT INTO kanban_flow_state (id, version, event_id) VALUES (1, 1, 0)")).toThrow(
      /UNIQUE|PRIMARY/,
    );
    const card = db.sqlite.prepare(
      "INSERT INTO kanban_flow_cards (task_id, completed_at, lead, running, blocked, waiting, runs) VALUES ('t_a', 5, 4, 3, 0, 1, 1) RETURNING tenant, cycle",
    );
    expect(card.get()).toEqual({ tenant: "", cycle: null });
    // One histogram bucket per tenant, day, metric and bucket; one row per blocked episode of a card.
    const bucket =
      "INSERT INTO kanban_flow_hist (tenant, day, metric, bucket, n, total, min_value, max_value) VALUES ('', 0, 1, 2, 1, 4, 4, 4)";
    db.sqlite.exec(bucket);
    expect(() => db.sqlite.exec(bucket)).toThrow(/UNIQUE/);
    const block = db.sqlite.prepare(
      "INSERT INTO kanban_flow_blocks (task_id, seq, tenant, reason, started_at) VALUES ('t_a', 1, '', 'waiting on review', 2) RETURNING ended_at",
    );
    expect(block.get()).toEqual({ ended_at: null });
    expect(() => block.get()).toThrow(/UNIQUE/);
    db.close();
  });
});
