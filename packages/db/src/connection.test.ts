import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it, onTestFinished } from "vitest";
import { forgetInitialised, openDatabase, WAL_AUTOCHECKPOINT_PAGES } from "./connection.ts";
import { KanbanDbCorruptError, KanbanDbError } from "./errors.ts";
import { describeSchema } from "./testing.ts";
import { writeTxn } from "./write-txn.ts";
import { useTempDirs } from "./test/temp-dirs.ts";
import { bundledScript } from "./test/bundled-script.ts";

const tempDir = useTempDirs();
const quiet = { warn: () => {} };

describe("openDatabase", () => {
  it("creates a Hermes-shaped board with every table and index name of the spec", () => {
    const file = path.join(tempDir(), "kanban.db");
    const db = openDatabase({ path: file, ...quiet });
    const schema = describeSchema(db.sqlite);
    // Hermes' seven tables, and sixteen of ours (remote hosts, task labels, incidents, subscription rules,
    // the delivery log, usage reports, budgets, gates, verifications, evidence, saved views and the five
    // of the flow ledger; Hermes ignores tables it does not know).
    expect(Object.keys(schema.tables).sort()).toEqual([
      "kanban_budgets",
      "kanban_evidence",
      "kanban_flow_blocks",
      "kanban_flow_cards",
      "kanban_flow_hist",
      "kanban_flow_ready",
      "kanban_flow_state",
      "kanban_gates",
      "kanban_hosts",
      "kanban_incidents",
      "kanban_notify_deliveries",
      "kanban_notify_rules",
      "kanban_notify_subs",
      "kanban_task_requires",
      "kanban_usage",
      "kanban_verifications",
      "kanban_views",
      "task_attachments",
      "task_comments",
      "task_events",
      "task_links",
      "task_runs",
      "tasks",
    ]);
    expect(Object.keys(schema.indexes).sort()).toEqual([
      "idx_attachments_task",
      "idx_budgets_scope",
      "idx_comments_task",
      "idx_events_run",
      "idx_events_task",
      "idx_events_warnings",
      "idx_evidence_task",
      "idx_flow_blocks_start",
      "idx_flow_blocks_tenant",
      "idx_flow_cards_done",
      "idx_flow_cards_tenant",
      "idx_flow_hist_day",
      "idx_flow_ready_since",
      "idx_flow_ready_tenant",
      "idx_gates_scope",
      "idx_hosts_tenant",
      "idx_incidents_scope",
      "idx_links_child",
      "idx_links_parent",
      "idx_notify_deliveries_sub",
      "idx_notify_rules_key",
      "idx_notify_rules_scope",
      "idx_notify_task",
      "idx_runs_status",
      "idx_runs_task",
      "idx_task_requires_label",
      "idx_tasks_archived_recent",
      "idx_tasks_assignee_status",
      "idx_tasks_done_recent",
      "idx_tasks_failing",
      "idx_tasks_idempotency",
      "idx_tasks_ready_priority",
      "idx_tasks_session_id",
      "idx_tasks_status",
      "idx_tasks_tenant",
      "idx_usage_reported",
      "idx_usage_task",
      "idx_views_name",
    ]);
    const taskCols = Object.fromEntries((schema.tables.tasks ?? []).map((c) => [c.name, c]));
    for (const name of [
      "workflow_template_id",
      "current_step_key",
      "skills",
      "current_run_id",
      "consecutive_failures",
      "worker_pid",
      "last_failure_error",
      "max_runtime_seconds",
      "last_heartbeat_at",
      "max_retries",
      "model_override",
      "session_id",
    ]) {
      expect(taskCols[name], name).toBeDefined();
    }
    expect(taskCols.consecutive_failures).toMatchObject({ type: "INTEGER", notnull: true, default: "0" });
    expect(taskCols.workspace_kind).toMatchObject({ type: "TEXT", notnull: true, default: "'scratch'" });
    expect(taskCols.id).toMatchObject({ type: "TEXT", pk: 1 });
    db.close();
  });

  it("sets the connection pragmas of Hermes on every open", () => {
    const file = path.join(tempDir(), "kanban.db");
    for (let i = 0; i < 2; i++) {
      const db = openDatabase({ path: file, ...quiet });
      expect(db.journalMode).toBe("wal");
      expect(db.sqlite.pragma("journal_mode", { simple: true })).toBe("wal");
      expect(db.sqlite.pragma("synchronous", { simple: true })).toBe(2);
      expect(db.sqlite.pragma("foreign_keys", { simple: true })).toBe(1);
      expect(db.sqlite.pragma("secure_delete", { simple: true })).toBe(1);
      expect(db.sqlite.pragma("cell_size_check", { simple: true })).toBe(1);
      expect(db.sqlite.pragma("busy_timeout", { simple: true })).toBe(120000);
      expect(db.sqlite.pragma("journal_size_limit", { simple: true })).toBe(8388608);
      // Ours, not Hermes' 100: the WAL's high-water mark must stay under journal_size_limit.
      expect(db.sqlite.pragma("wal_autocheckpoint", { simple: true })).toBe(WAL_AUTOCHECKPOINT_PAGES);
      expect(WAL_AUTOCHECKPOINT_PAGES * (4096 + 24)).toBeLessThan(8388608);
      db.close();
    }
  });

  it("honours synchronous=NORMAL and a custom busy timeout", () => {
    const db = openDatabase({
      path: path.join(tempDir(), "k.db"),
      synchronous: "NORMAL",
      busyTimeoutMs: 2500,
      ...quiet,
    });
    expect(db.sqlite.pragma("synchronous", { simple: true })).toBe(1);
    expect(db.sqlite.pragma("busy_timeout", { simple: true })).toBe(2500);
    db.close();
  });

  it("refuses a path that is a directory with DB_PATH_INVALID", () => {
    const dir = tempDir();
    expect(() => openDatabase({ path: dir, ...quiet })).toThrow(KanbanDbError);
    try {
      openDatabase({ path: dir, ...quiet });
    } catch (err) {
      expect((err as KanbanDbError).code).toBe("DB_PATH_INVALID");
      expect((err as Error).message).toContain("is a directory");
    }
  });

  it("refuses a file in a missing directory with DB_PATH_INVALID and creates nothing", () => {
    const dir = tempDir();
    const file = path.join(dir, "nope", "kanban.db");
    expect(() => openDatabase({ path: file, ...quiet })).toThrow(/directory does not exist/);
    expect(fs.existsSync(path.join(dir, "nope"))).toBe(false);
  });

  it("refuses a directory where no file can be created with DB_UNAVAILABLE", () => {
    let dir: string;
    if (process.getuid?.() === 0) {
      dir = "/sys/kernel"; // root ignores file modes; sysfs refuses new files even to root
    } else {
      dir = tempDir();
      fs.chmodSync(dir, 0o555);
      onTestFinished(() => fs.chmodSync(dir, 0o755));
    }
    const err = (() => {
      try {
        openDatabase({ path: path.join(dir, "kanban.db"), ...quiet });
      } catch (e) {
        return e as KanbanDbError;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(KanbanDbError);
    expect(err?.code).toBe("DB_UNAVAILABLE");
  });

  it("refuses a file that is not SQLite with DB_NOT_A_DATABASE and leaves it byte-for-byte intact", () => {
    const file = path.join(tempDir(), "kanban.db");
    const content = "this is a text file, not a board\n".repeat(10);
    fs.writeFileSync(file, content);
    let caught: KanbanDbError | undefined;
    try {
      openDatabase({ path: file, ...quiet });
    } catch (e) {
      caught = e as KanbanDbError;
    }
    expect(caught?.code).toBe("DB_NOT_A_DATABASE");
    expect(caught?.message).toMatch(/^file is not a database: invalid SQLite header for .*first_32=7468/);
    expect(fs.readFileSync(file, "utf8")).toBe(content);
    expect(fs.readdirSync(path.dirname(file))).toEqual(["kanban.db"]);
  });

  it("quarantines a corrupt board: typed error naming the backup, original untouched", () => {
    const dir = tempDir();
    const file = path.join(dir, "kanban.db");
    const db = openDatabase({ path: file, ...quiet });
    const insert = db.sqlite.prepare("INSERT INTO tasks (id, title, status, created_at) VALUES (?, ?, 'todo', 1)");
    for (let i = 0; i < 400; i++) insert.run(`t_${i.toString(16).padStart(8, "0")}`, "x".repeat(200));
    db.sqlite.pragma("wal_checkpoint(TRUNCATE)");
    db.close();
    forgetInitialised(file);
    // Scribble over a page in the middle of the file (past the header and schema pages).
    const bytes = fs.readFileSync(file);
    bytes.fill(0xa5, 4096 * 3, 4096 * 9);
    fs.writeFileSync(file, bytes);
    fs.rmSync(`${file}-wal`, { force: true });
    fs.rmSync(`${file}-shm`, { force: true });

    let caught: KanbanDbCorruptError | undefined;
    try {
      openDatabase({ path: file, ...quiet });
    } catch (e) {
      caught = e as KanbanDbCorruptError;
    }
    expect(caught).toBeInstanceOf(KanbanDbCorruptError);
    expect(caught?.code).toBe("DB_CORRUPT");
    expect(caught?.backupPath).toMatch(/kanban\.db\.corrupt\.[0-9a-f]{16}\.bak$/);
    expect(caught?.message).toContain(`Refusing to open corrupt kanban DB at ${file}`);
    expect(caught?.message).toContain(`backup at ${caught?.backupPath}`);
    expect(fs.readFileSync(file).equals(bytes)).toBe(true);
    expect(fs.readFileSync(caught?.backupPath as string).equals(bytes)).toBe(true);
  });

  it("lets several processes open the same new file at once: one schema, one journal", async () => {
    const file = path.join(tempDir(), "kanban.db");
    const here = path.dirname(fileURLToPath(import.meta.url));
    const script = `
      import { openDatabase } from ${JSON.stringify(path.join(here, "connection.ts"))};
      const db = openDatabase({ path: ${JSON.stringify(file)}, warn: () => {} });
      db.sqlite.prepare("INSERT INTO task_comments (task_id, author, body, created_at) VALUES ('t_1', 'p', 'hi', 1)").run();
      db.close();
    `;
    const bundle = await bundledScript({ code: script, resolveDir: here });
    const runs = Array.from(
      { length: 6 },
      () =>
        new Promise<number>((resolve) => {
          const child = spawn(process.execPath, [bundle], {
            stdio: "inherit",
          });
          child.on("exit", (code) => resolve(code ?? -1));
        }),
    );
    expect(await Promise.all(runs)).toEqual([0, 0, 0, 0, 0, 0]);
    forgetInitialised(file);
    const db = openDatabase({ path: file, ...quiet });
    expect(db.sqlite.prepare("SELECT count(*) AS n FROM task_comments").get()).toEqual({ n: 6 });
    // Every committed migration applied exactly once, although six processes raced to apply them.
    const migrations = fs.readdirSync(path.join(here, "..", "drizzle")).filter((f) => f.endsWith(".sql")).length;
    expect(db.sqlite.prepare("SELECT count(*) AS n FROM __drizzle_migrations").get()).toEqual({ n: migrations });
    // Hermes' protocol: the flock file stays, empty (no pid, nothing to go stale).
    expect(fs.readFileSync(`${file}.init.lock`, "utf8")).toBe("");
    db.close();
  }, 60_000);
});

describe("writeTxn", () => {
  it("commits on success and rolls everything back on error", () => {
    const db = openDatabase({ path: path.join(tempDir(), "k.db"), ...quiet });
    const add = db.sqlite.prepare(
      "INSERT INTO task_comments (task_id, author, body, created_at) VALUES ('t', 'a', ?, 1)",
    );
    writeTxn(db.sqlite, () => add.run("kept"));
    expect(() =>
      writeTxn(db.sqlite, () => {
        add.run("lost");
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(db.sqlite.prepare("SELECT body FROM task_comments").all()).toEqual([{ body: "kept" }]);
    expect(db.sqlite.inTransaction).toBe(false);
    db.close();
  });

  it("nests as a savepoint inside an open transaction", () => {
    const db = openDatabase({ path: path.join(tempDir(), "k.db"), ...quiet });
    const add = db.sqlite.prepare(
      "INSERT INTO task_comments (task_id, author, body, created_at) VALUES ('t', 'a', ?, 1)",
    );
    writeTxn(db.sqlite, () => {
      add.run("outer");
      expect(() =>
        writeTxn(db.sqlite, () => {
          add.run("inner");
          throw new Error("inner fails");
        }),
      ).toThrow("inner fails");
    });
    expect(db.sqlite.prepare("SELECT body FROM task_comments").all()).toEqual([{ body: "outer" }]);
    db.close();
  });

  it("waits for the write lock by polling within busy_timeout, then gives up; the connection keeps its timeout", () => {
    const file = path.join(tempDir(), "k.db");
    const a = openDatabase({ path: file, ...quiet });
    const b = openDatabase({ path: file, busyTimeoutMs: 5_000, ...quiet });
    a.sqlite.exec("BEGIN IMMEDIATE");
    let polls = 0;
    const random = () => {
      polls++;
      if (polls === 3) a.sqlite.exec("COMMIT"); // the holder finishes while b polls
      return 0;
    };
    // No retries: the lock must come from the polling loop itself.
    writeTxn(b.sqlite, () => b.sqlite.prepare("INSERT INTO task_links VALUES ('p', 'c')").run(), {
      random,
      retries: 0,
    });
    expect(polls).toBe(3);
    expect(b.sqlite.pragma("busy_timeout", { simple: true })).toBe(5_000);

    const c = openDatabase({ path: file, busyTimeoutMs: 50, ...quiet });
    a.sqlite.exec("BEGIN IMMEDIATE");
    const started = Date.now();
    expect(() => writeTxn(c.sqlite, () => 1, { retries: 0 })).toThrow(expect.objectContaining({ code: "SQLITE_BUSY" }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    expect(c.sqlite.pragma("busy_timeout", { simple: true })).toBe(50);
    expect(c.sqlite.inTransaction).toBe(false);
    a.sqlite.exec("COMMIT");
    for (const db of [a, b, c]) db.close();
  });

  it("retries BEGIN IMMEDIATE while another connection holds the write lock", () => {
    const file = path.join(tempDir(), "k.db");
    const a = openDatabase({ path: file, busyTimeoutMs: 0, ...quiet });
    const b = openDatabase({ path: file, busyTimeoutMs: 0, ...quiet });
    a.sqlite.exec("BEGIN IMMEDIATE");
    let attempts = 0;
    const random = () => {
      attempts++;
      if (attempts === 2) a.sqlite.exec("COMMIT"); // the holder finishes while b backs off
      return 0;
    };
    writeTxn(b.sqlite, () => b.sqlite.prepare("INSERT INTO task_links VALUES ('p', 'c')").run(), { random });
    expect(attempts).toBe(2);
    expect(b.sqlite.prepare("SELECT count(*) AS n FROM task_links").get()).toEqual({ n: 1 });
    a.close();
    b.close();
  });
});
