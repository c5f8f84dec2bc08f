import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { forgetInitialised, openDatabase } from "./connection.ts";
import { describeSchema, dumpRows, type SchemaDescription } from "./testing.ts";
import { useTempDirs } from "./test/temp-dirs.ts";

const tempDir = useTempDirs();
const quiet = { warn: () => {}, nowSeconds: () => 1_700_000_000 };

/** The shape of a board we create from scratch: what every upgrade must converge to. */
function freshSchema(): SchemaDescription {
  const db = openDatabase({ path: path.join(tempDir(), "fresh.db"), ...quiet });
  const s = describeSchema(db.sqlite);
  db.close();
  return s;
}

/** Legacy columns Hermes leaves in place after add-then-copy; nothing else may differ. */
const LEGACY_LEFTOVERS = new Set(["tasks.spawn_failures", "tasks.last_spawn_error"]);

function expectConvergedSchema(
  actual: SchemaDescription,
  fresh: SchemaDescription,
  opts: { priorityNotNull?: boolean } = {},
) {
  expect(Object.keys(actual.tables).sort()).toEqual(Object.keys(fresh.tables).sort());
  expect(actual.indexes).toEqual(fresh.indexes);
  for (const [table, cols] of Object.entries(fresh.tables)) {
    const got = (actual.tables[table] ?? []).filter((c) => !LEGACY_LEFTOVERS.has(`${table}.${c.name}`));
    const want = cols.map((c) =>
      // Some v1 boards declared priority NOT NULL; SQLite cannot relax that without a rebuild, and it is harmless.
      opts.priorityNotNull && table === "tasks" && c.name === "priority" ? { ...c, notnull: true } : c,
    );
    expect(got, table).toEqual(want);
  }
}

function buildLegacy(file: string, ddl: string, rows: string): void {
  const raw = new Database(file);
  raw.exec(ddl);
  raw.exec(rows);
  raw.close();
}

function openAndCheckIdempotent(file: string) {
  const db = openDatabase({ path: file, ...quiet });
  const schema = describeSchema(db.sqlite);
  const rows = dumpRows(db.sqlite);
  db.close();
  // Opening again (as a new process would) must change nothing at all.
  forgetInitialised(file);
  const again = openDatabase({ path: file, ...quiet });
  expect(describeSchema(again.sqlite)).toEqual(schema);
  expect(dumpRows(again.sqlite)).toEqual(rows);
  again.close();
  return { schema, rows };
}

const V1_TASKS = `
  CREATE TABLE tasks (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, body TEXT, assignee TEXT, status TEXT NOT NULL,
    priority INTEGER NOT NULL DEFAULT 0, created_by TEXT, created_at INTEGER NOT NULL, started_at INTEGER,
    completed_at INTEGER, workspace_kind TEXT NOT NULL DEFAULT 'scratch', workspace_path TEXT,
    claim_lock TEXT, claim_expires INTEGER
  );
  CREATE TABLE task_links (parent_id TEXT NOT NULL, child_id TEXT NOT NULL, PRIMARY KEY (parent_id, child_id));
  CREATE TABLE task_comments (id INTEGER PRIMARY KEY AUTOINCREMENT, task_id TEXT NOT NULL, author TEXT NOT NULL, body TEXT NOT NULL, created_at INTEGER NOT NULL);
  CREATE TABLE task_events (id INTEGER PRIMARY KEY AUTOINCREMENT, task_id TEXT NOT NULL, kind TEXT NOT NULL, payload TEXT, created_at INTEGER NOT NULL);
  CREATE INDEX idx_tasks_status ON tasks(status);
`;

describe("legacy upgrade (spec §1.8)", () => {
  it("v1 original board: adds every later column, creates missing tables, keeps rows and short ids", () => {
    const file = path.join(tempDir(), "kanban.db");
    buildLegacy(
      file,
      V1_TASKS,
      `INSERT INTO tasks (id, title, body, assignee, status, priority, created_by, created_at, workspace_kind)
         VALUES ('t_ab12', 'short id task', 'body', 'alice', 'todo', 3, 'user', 100, 'scratch'),
                ('t_0123abcd', 'parent', NULL, NULL, 'done', 0, 'user', 90, 'dir');
       INSERT INTO task_links VALUES ('t_0123abcd', 't_ab12');
       INSERT INTO task_comments (task_id, author, body, created_at) VALUES ('t_ab12', 'bob', 'hello', 101);
       INSERT INTO task_events (task_id, kind, payload, created_at) VALUES
         ('t_ab12', 'created', '{"assignee":"alice"}', 100), ('t_ab12', 'ready', NULL, 102),
         ('t_ab12', 'priority', '{"priority":3}', 103), ('t_ab12', 'spawn_auto_blocked', '{"failures":2}', 104);`,
    );
    const { schema, rows } = openAndCheckIdempotent(file);
    expectConvergedSchema(schema, freshSchema(), { priorityNotNull: true });
    expect(rows.tasks).toHaveLength(2);
    expect(rows.tasks?.[0]).toMatchObject({
      id: "t_ab12",
      title: "short id task",
      body: "body",
      assignee: "alice",
      priority: 3,
      consecutive_failures: 0,
      goal_mode: 0,
      tenant: null,
      skills: null,
    });
    expect(rows.task_links).toEqual([{ parent_id: "t_0123abcd", child_id: "t_ab12" }]);
    expect(rows.task_comments).toHaveLength(1);
    expect((rows.task_events as { kind: string; run_id: unknown }[]).map((e) => [e.kind, e.run_id])).toEqual([
      ["created", null],
      ["promoted", null],
      ["reprioritized", null],
      ["gave_up", null],
    ]);
    expect(rows.task_runs).toEqual([]);
    expect(rows.kanban_notify_subs).toEqual([]);
  });

  it("spawn-failure era: copies spawn_failures and last_spawn_error into the renamed columns", () => {
    const file = path.join(tempDir(), "kanban.db");
    buildLegacy(
      file,
      `${V1_TASKS}
       ALTER TABLE tasks ADD COLUMN tenant TEXT;
       ALTER TABLE tasks ADD COLUMN result TEXT;
       ALTER TABLE tasks ADD COLUMN idempotency_key TEXT;
       ALTER TABLE tasks ADD COLUMN spawn_failures INTEGER NOT NULL DEFAULT 0;
       ALTER TABLE tasks ADD COLUMN worker_pid INTEGER;
       ALTER TABLE tasks ADD COLUMN last_spawn_error TEXT;`,
      `INSERT INTO tasks (id, title, status, created_at, tenant, result, idempotency_key, spawn_failures, last_spawn_error)
         VALUES ('t_11112222', 'flaky', 'blocked', 5, 'acme', 'r', 'key-1', 2, 'exec format error'),
                ('t_33334444', 'fine', 'ready', 6, NULL, NULL, NULL, 0, NULL);`,
    );
    const { schema, rows } = openAndCheckIdempotent(file);
    expectConvergedSchema(schema, freshSchema(), { priorityNotNull: true });
    expect(rows.tasks?.[0]).toMatchObject({
      id: "t_11112222",
      tenant: "acme",
      idempotency_key: "key-1",
      spawn_failures: 2,
      consecutive_failures: 2,
      last_spawn_error: "exec format error",
      last_failure_error: "exec format error",
    });
    expect(rows.tasks?.[1]).toMatchObject({ consecutive_failures: 0, last_failure_error: null });
  });

  it("pre-runs era: running tasks get a backfilled open run pointed to by current_run_id", () => {
    const file = path.join(tempDir(), "kanban.db");
    buildLegacy(
      file,
      `${V1_TASKS}
       ALTER TABLE tasks ADD COLUMN worker_pid INTEGER;
       ALTER TABLE tasks ADD COLUMN max_runtime_seconds INTEGER;
       ALTER TABLE tasks ADD COLUMN last_heartbeat_at INTEGER;`,
      `INSERT INTO tasks (id, title, assignee, status, created_at, started_at, claim_lock, claim_expires, worker_pid, max_runtime_seconds, last_heartbeat_at)
         VALUES ('t_aaaa0001', 'in flight', 'coder', 'running', 10, 20, 'host:42', 920, 4242, 600, 30),
                ('t_aaaa0002', 'never started', 'coder', 'running', 11, NULL, 'host:43', 921, NULL, NULL, NULL),
                ('t_aaaa0003', 'idle', NULL, 'ready', 12, NULL, NULL, NULL, NULL, NULL, NULL);`,
    );
    const { schema, rows } = openAndCheckIdempotent(file);
    expectConvergedSchema(schema, freshSchema(), { priorityNotNull: true });
    const runs = rows.task_runs as Record<string, unknown>[];
    expect(runs).toHaveLength(2);
    expect(runs[0]).toMatchObject({
      task_id: "t_aaaa0001",
      profile: "coder",
      status: "running",
      claim_lock: "host:42",
      claim_expires: 920,
      worker_pid: 4242,
      max_runtime_seconds: 600,
      last_heartbeat_at: 30,
      started_at: 20,
      ended_at: null,
    });
    expect(runs[1]).toMatchObject({ task_id: "t_aaaa0002", started_at: 1_700_000_000 });
    const tasks = rows.tasks as Record<string, unknown>[];
    expect(tasks.map((t) => t.current_run_id)).toEqual([runs[0]?.id, runs[1]?.id, null]);
  });

  it("TEXT-id drift: rebuilds runs, comments, events and subs with integer ids and remaps run ids", () => {
    const file = path.join(tempDir(), "kanban.db");
    buildLegacy(
      file,
      `CREATE TABLE tasks (
         id TEXT PRIMARY KEY, title TEXT NOT NULL, body TEXT, assignee TEXT, status TEXT NOT NULL,
         priority INTEGER DEFAULT 0, created_by TEXT, created_at INTEGER NOT NULL, started_at INTEGER,
         completed_at INTEGER, workspace_kind TEXT NOT NULL DEFAULT 'scratch', workspace_path TEXT,
         claim_lock TEXT, claim_expires INTEGER, current_run_id INTEGER
       );
       CREATE TABLE task_links (parent_id TEXT NOT NULL, child_id TEXT NOT NULL, PRIMARY KEY (parent_id, child_id));
       CREATE TABLE task_comments (id TEXT PRIMARY KEY, task_id TEXT NOT NULL, author TEXT NOT NULL, body TEXT NOT NULL, created_at INTEGER NOT NULL);
       CREATE TABLE task_events (id TEXT PRIMARY KEY, task_id TEXT NOT NULL, run_id INTEGER, kind TEXT NOT NULL, payload TEXT, created_at INTEGER NOT NULL);
       CREATE TABLE task_runs (id TEXT PRIMARY KEY, task_id TEXT NOT NULL, profile TEXT, step_key TEXT, status TEXT NOT NULL,
         claim_lock TEXT, claim_expires INTEGER, worker_pid INTEGER, max_runtime_seconds INTEGER, last_heartbeat_at INTEGER,
         started_at INTEGER NOT NULL, ended_at INTEGER, outcome TEXT, summary TEXT, metadata TEXT, error TEXT);
       CREATE TABLE kanban_notify_subs (task_id TEXT NOT NULL, platform TEXT NOT NULL, chat_id TEXT NOT NULL,
         thread_id TEXT NOT NULL DEFAULT '', user_id TEXT, created_at INTEGER NOT NULL, last_event_id TEXT,
         PRIMARY KEY (task_id, platform, chat_id, thread_id));
       CREATE INDEX idx_events_task ON task_events(task_id, created_at);`,
      `INSERT INTO tasks (id, title, status, created_at, current_run_id, claim_lock, claim_expires)
         VALUES ('t_dddd0001', 'running', 'running', 1, 77, 'h:1', 999), ('t_dddd0002', 'done', 'done', 2, NULL, NULL, NULL);
       INSERT INTO task_runs (id, task_id, status, started_at, ended_at, outcome) VALUES
         ('12', 't_dddd0002', 'done', 3, 4, 'completed'), ('77', 't_dddd0001', 'running', 5, NULL, NULL);
       INSERT INTO task_comments (id, task_id, author, body, created_at) VALUES ('c-1', 't_dddd0001', 'a', 'one', 6), ('c-2', 't_dddd0001', 'b', 'two', 7);
       INSERT INTO task_events (id, task_id, run_id, kind, payload, created_at) VALUES
         ('e1', 't_dddd0002', 12, 'completed', NULL, 4), ('e2', 't_dddd0001', 77, 'claimed', '{"run_id":77}', 5), ('e3', 't_dddd0001', NULL, 'ready', NULL, 6);
       INSERT INTO kanban_notify_subs VALUES ('t_dddd0001', 'telegram', '42', '', NULL, 8, '3'), ('t_dddd0001', 'tui', 'sess', '', NULL, 9, NULL);`,
    );
    const { schema, rows } = openAndCheckIdempotent(file);
    expectConvergedSchema(schema, freshSchema());
    const runs = rows.task_runs as Record<string, unknown>[];
    expect(runs.map((r) => [r.id, r.task_id, r.status])).toEqual([
      [1, "t_dddd0002", "done"],
      [2, "t_dddd0001", "running"],
    ]);
    expect((rows.tasks as Record<string, unknown>[]).map((t) => t.current_run_id)).toEqual([2, null]);
    expect((rows.task_comments as Record<string, unknown>[]).map((c) => [c.id, c.body])).toEqual([
      [1, "one"],
      [2, "two"],
    ]);
    expect((rows.task_events as Record<string, unknown>[]).map((e) => [e.id, e.run_id, e.kind])).toEqual([
      [1, 1, "completed"],
      [2, 2, "claimed"],
      [3, null, "promoted"],
    ]);
    expect(
      (rows.kanban_notify_subs as Record<string, unknown>[]).map((s) => [s.platform, s.last_event_id, s.delivery_mode]),
    ).toEqual([
      ["telegram", 3, "notify+wake"],
      ["tui", 0, "notify"],
    ]);
  });

  it("a board we created is left untouched by the legacy pass", () => {
    const file = path.join(tempDir(), "kanban.db");
    const db = openDatabase({ path: file, ...quiet });
    db.sqlite.exec("INSERT INTO tasks (id, title, status, created_at) VALUES ('t_12345678', 'x', 'ready', 1)");
    const before = { schema: describeSchema(db.sqlite), rows: dumpRows(db.sqlite) };
    db.close();
    forgetInitialised(file);
    const again = openDatabase({ path: file, ...quiet });
    expect({ schema: describeSchema(again.sqlite), rows: dumpRows(again.sqlite) }).toEqual(before);
    again.close();
  });

  it("tolerates columns and tables written by a newer Hermes", () => {
    const file = path.join(tempDir(), "kanban.db");
    const db = openDatabase({ path: file, ...quiet });
    db.sqlite.exec(`ALTER TABLE tasks ADD COLUMN worker_started_at TEXT;
      CREATE TABLE recipe_instances (id TEXT PRIMARY KEY);
      INSERT INTO tasks (id, title, status, created_at, worker_started_at) VALUES ('t_99990000', 'future', 'ready', 1, '123|456');`);
    db.close();
    forgetInitialised(file);
    const again = openDatabase({ path: file, ...quiet });
    expect(again.sqlite.prepare("SELECT worker_started_at FROM tasks").get()).toEqual({ worker_started_at: "123|456" });
    expect(fs.existsSync(file)).toBe(true);
    again.close();
  });
});
