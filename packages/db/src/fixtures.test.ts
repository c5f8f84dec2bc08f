import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { forgetInitialised, openDatabase } from "./connection.ts";
import { LEGACY_EVENT_RENAMES } from "./legacy-upgrade.ts";
import { describeSchema, dumpRows, makeTempDir } from "./testing.ts";

/**
 * Real boards written by Hermes' own Python kernel (`../shared/fixtures`, beside the repository).
 * Each must open, upgrade in place, and keep everything its manifest lists.
 */
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const fixturesDir = path.resolve(repoRoot, "..", "shared", "fixtures");

interface ManifestTask {
  id: string;
  status: string;
  title: string;
  assignee: string | null;
  tenant: string | null;
  priority: number;
  parents: string[];
  children: string[];
  comment_count: number;
  event_count: number;
  run_count: number;
  run_outcomes: string[];
  skills?: string[] | null;
  idempotency_key?: string | null;
  consecutive_failures?: number;
  spawn_failures?: number;
  max_retries?: number | null;
  model_override?: string | null;
  block_kind?: string | null;
}

interface Manifest {
  label: string;
  tables: Record<string, { columns: string[]; rows: number }>;
  tasks: ManifestTask[];
  links: { parent: string; child: string }[];
  runs_by_outcome: Record<string, number>;
  event_kinds: Record<string, number>;
  notify_subs: Record<string, unknown>[];
  attachments?: { task_id: string; filename: string; size: number }[];
  idempotency_checks: { key: string; first: string }[];
}

const fixtureNames = fs.existsSync(fixturesDir)
  ? fs
      .readdirSync(fixturesDir)
      .filter((f) => f.endsWith(".db"))
      .map((f) => f.replace(/\.db$/, ""))
  : [];

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

describe("Hermes fixture boards", () => {
  it("are present beside the repository", () => {
    expect(fixtureNames.length, `no fixtures found in ${fixturesDir}`).toBeGreaterThanOrEqual(2);
  });

  for (const name of fixtureNames) {
    it(`${name} opens, upgrades in place and keeps everything its manifest lists`, () => {
      const manifest = JSON.parse(fs.readFileSync(path.join(fixturesDir, `${name}.json`), "utf8")) as Manifest;
      const tmp = makeTempDir();
      cleanups.push(tmp.cleanup);
      const file = path.join(tmp.dir, "kanban.db");
      fs.copyFileSync(path.join(fixturesDir, `${name}.db`), file);

      const db = openDatabase({ path: file, warn: () => {} });
      const sqlite = db.sqlite;

      // Every table and column Hermes wrote is still there, with at least as many rows.
      for (const [table, info] of Object.entries(manifest.tables)) {
        const cols = (sqlite.prepare("SELECT name FROM pragma_table_info(?)").all(table) as { name: string }[]).map(
          (c) => c.name,
        );
        for (const col of info.columns) expect(cols, `${table}.${col}`).toContain(col);
        const n = (sqlite.prepare(`SELECT count(*) AS n FROM "${table}"`).get() as { n: number }).n;
        if (table === "task_runs") expect(n, table).toBeGreaterThanOrEqual(info.rows);
        else expect(n, table).toBe(info.rows);
      }

      // Tasks, field by field.
      const taskRow = sqlite.prepare("SELECT * FROM tasks WHERE id = ?");
      const countBy = (table: string) => sqlite.prepare(`SELECT count(*) AS n FROM ${table} WHERE task_id = ?`);
      const comments = countBy("task_comments");
      const events = countBy("task_events");
      const runs = countBy("task_runs");
      const parents = sqlite.prepare("SELECT parent_id FROM task_links WHERE child_id = ? ORDER BY parent_id");
      const children = sqlite.prepare("SELECT child_id FROM task_links WHERE parent_id = ? ORDER BY child_id");
      for (const t of manifest.tasks) {
        const row = taskRow.get(t.id) as Record<string, unknown> | undefined;
        expect(row, t.id).toBeDefined();
        expect(row).toMatchObject({
          id: t.id,
          status: t.status,
          title: t.title,
          assignee: t.assignee,
          tenant: t.tenant,
          priority: t.priority,
        });
        if (t.skills !== undefined)
          expect(row?.skills === null ? null : JSON.parse(String(row?.skills))).toEqual(t.skills);
        if (t.idempotency_key !== undefined) expect(row?.idempotency_key).toBe(t.idempotency_key);
        if (t.consecutive_failures !== undefined) expect(row?.consecutive_failures).toBe(t.consecutive_failures);
        if (t.spawn_failures !== undefined) expect(row?.consecutive_failures).toBe(t.spawn_failures);
        if (t.max_retries !== undefined) expect(row?.max_retries).toBe(t.max_retries);
        if (t.model_override !== undefined) expect(row?.model_override).toBe(t.model_override);
        expect((parents.all(t.id) as { parent_id: string }[]).map((r) => r.parent_id)).toEqual([...t.parents].sort());
        expect((children.all(t.id) as { child_id: string }[]).map((r) => r.child_id)).toEqual([...t.children].sort());
        expect((comments.get(t.id) as { n: number }).n, `${t.id} comments`).toBe(t.comment_count);
        expect((events.get(t.id) as { n: number }).n, `${t.id} events`).toBe(t.event_count);
        expect((runs.get(t.id) as { n: number }).n, `${t.id} runs`).toBeGreaterThanOrEqual(t.run_count);
      }

      for (const l of manifest.links) {
        expect(
          sqlite.prepare("SELECT 1 FROM task_links WHERE parent_id = ? AND child_id = ?").get(l.parent, l.child),
        ).toBeDefined();
      }

      // Runs by outcome (open runs counted as "(open:running)").
      const outcomes = sqlite
        .prepare(
          "SELECT CASE WHEN ended_at IS NULL THEN '(open:' || status || ')' ELSE outcome END AS o, count(*) AS n FROM task_runs GROUP BY o",
        )
        .all() as { o: string; n: number }[];
      const byOutcome = Object.fromEntries(outcomes.map((r) => [r.o, r.n]));
      for (const [outcome, n] of Object.entries(manifest.runs_by_outcome)) {
        expect(byOutcome[outcome] ?? 0, outcome).toBeGreaterThanOrEqual(n);
      }

      // Event kinds: same counts, legacy names folded into their new names.
      const kinds = Object.fromEntries(
        (
          sqlite.prepare("SELECT kind, count(*) AS n FROM task_events GROUP BY kind").all() as {
            kind: string;
            n: number;
          }[]
        ).map((r) => [r.kind, r.n]),
      );
      const expected: Record<string, number> = {};
      const renames = new Map(LEGACY_EVENT_RENAMES);
      for (const [kind, n] of Object.entries(manifest.event_kinds)) {
        const k = renames.get(kind) ?? kind;
        expected[k] = (expected[k] ?? 0) + n;
      }
      expect(kinds).toEqual(expected);

      // Notify subscriptions keep their routing and cursor.
      for (const sub of manifest.notify_subs) {
        const row = sqlite
          .prepare(
            "SELECT * FROM kanban_notify_subs WHERE task_id = ? AND platform = ? AND chat_id = ? AND thread_id = ?",
          )
          .get(sub.task_id, sub.platform, sub.chat_id, sub.thread_id) as Record<string, unknown> | undefined;
        expect(row, JSON.stringify(sub)).toBeDefined();
        expect(row).toMatchObject(sub);
      }

      for (const a of manifest.attachments ?? []) {
        expect(
          sqlite
            .prepare("SELECT size FROM task_attachments WHERE task_id = ? AND filename = ?")
            .get(a.task_id, a.filename),
        ).toEqual({ size: a.size });
      }

      // Idempotency keys still resolve to the first task created with them.
      // (`key` names the fixture's task; its stored idempotency key must still find that task.)
      for (const check of manifest.idempotency_checks) {
        const task =
          manifest.tasks.find((t) => (t as { fixture_key?: string }).fixture_key === check.key) ??
          manifest.tasks.find((t) => t.id === check.first);
        const key = task?.idempotency_key;
        expect(key, check.key).toBeTruthy();
        const ids = (sqlite.prepare("SELECT id FROM tasks WHERE idempotency_key = ?").all(key) as { id: string }[]).map(
          (r) => r.id,
        );
        expect(ids).toContain(check.first);
      }

      // Invariant after upgrade: current_run_id set exactly when the task has an open run.
      const broken = sqlite
        .prepare(
          `SELECT t.id FROM tasks t WHERE (t.current_run_id IS NOT NULL) !=
             EXISTS (SELECT 1 FROM task_runs r WHERE r.task_id = t.id AND r.ended_at IS NULL)`,
        )
        .all();
      expect(broken).toEqual([]);
      expect(sqlite.pragma("integrity_check", { simple: true })).toBe("ok");

      // Idempotent: a second open by a new process changes nothing.
      const schema = describeSchema(sqlite);
      const rows = dumpRows(sqlite);
      db.close();
      forgetInitialised(file);
      const again = openDatabase({ path: file, warn: () => {} });
      expect(describeSchema(again.sqlite)).toEqual(schema);
      expect(dumpRows(again.sqlite)).toEqual(rows);
      again.close();
    });
  }
});
