import os from "node:os";
import type Database from "better-sqlite3";
import { writeTxn } from "@kanban/db";
import { type Clock, nowSeconds } from "./clock.ts";
import { DEFAULT_FAILURE_LIMIT } from "./constants.ts";
import { notFound } from "./errors.ts";
import type { IdSource } from "./ids.ts";
import { type ColumnIndex, columnIndex, jsonOrNull, taskFromValues } from "./rows.ts";
import type { Task } from "./types.ts";
import { CLEAR_CLAIM } from "./transitions.ts";

/** Whether a process id is alive on this host. Injected: the kernel never inspects processes itself. */
export type PidProbe = (pid: number) => boolean;

export interface RunClose {
  status: string;
  outcome: string;
  summary?: string | null;
  error?: string | null;
  metadata?: Record<string, unknown> | null;
}

/**
 * Shared state of one open board: the connection, injected ports and a cache of prepared
 * statements (every hot path reuses its statement instead of re-parsing SQL).
 */
export class BoardContext {
  private readonly statements = new Map<string, Database.Statement>();
  private readonly taskStatements = new Map<string, { stmt: Database.Statement; columns: ColumnIndex }>();

  constructor(
    readonly sqlite: Database.Database,
    readonly clock: Clock,
    readonly ids: IdSource,
    readonly hostname: string = os.hostname() || "unknown",
    readonly pid: number = process.pid,
    readonly isPidAlive: PidProbe = () => false,
    /**
     * The board's circuit-breaker policy (config's `failure_limit`), set once when the board is opened
     * so every verb that judges a breaker (recompute, failures, completions) uses the same number. A
     * task's own `max_retries` still wins; an explicit per-call limit (the dispatcher's override) too.
     */
    readonly failureLimit: number = DEFAULT_FAILURE_LIMIT,
  ) {}

  now(): number {
    return nowSeconds(this.clock);
  }

  /** `<hostname>:<pid>`: the default claimer id, and what "host-local" locks start with. */
  get defaultClaimer(): string {
    return `${this.hostname}:${this.pid}`;
  }

  isHostLocal(lock: string | null): boolean {
    return lock?.startsWith(`${this.hostname}:`) === true;
  }

  stmt(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.sqlite.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  /** One write transaction (`BEGIN IMMEDIATE`); nests as a savepoint when already inside one. */
  tx<T>(fn: () => T): T {
    return writeTxn(this.sqlite, fn);
  }

  private taskStmt(sql: string): { stmt: Database.Statement; columns: ColumnIndex } {
    let s = this.taskStatements.get(sql);
    if (!s) {
      const stmt = this.sqlite.prepare(sql).raw(true);
      s = { stmt, columns: columnIndex(stmt) };
      this.taskStatements.set(sql, s);
    }
    return s;
  }

  /**
   * Runs a statement whose columns are a `tasks` row (`SELECT *`, `t.*`, `RETURNING *`; a later
   * column of the same name wins) and returns the rows as tasks. Rows are read as arrays: see
   * taskFromValues for why.
   */
  tasks(sql: string, ...args: unknown[]): Task[] {
    const { stmt, columns } = this.taskStmt(sql);
    return (stmt.all(...args) as unknown[][]).map((values) => taskFromValues(columns, values));
  }

  /** The first row of {@link tasks}, or null. Also runs a write with `RETURNING *`. */
  task(sql: string, ...args: unknown[]): Task | null {
    const { stmt, columns } = this.taskStmt(sql);
    const values = stmt.get(...args) as unknown[] | undefined;
    return values === undefined ? null : taskFromValues(columns, values);
  }

  getTask(id: string): Task | null {
    return this.task("SELECT * FROM tasks WHERE id = ?", id);
  }

  requireTask(id: string): Task {
    const task = this.getTask(id);
    if (!task) throw notFound(`task ${id} not found`, { task_id: id });
    return task;
  }

  appendEvent(
    taskId: string,
    kind: string,
    payload: Record<string, unknown> | null,
    runId: number | null = null,
  ): number {
    const info = this.stmt(
      "INSERT INTO task_events (task_id, run_id, kind, payload, created_at) VALUES (?, ?, ?, ?, ?)",
    ).run(taskId, runId, kind, payload === null ? null : JSON.stringify(payload), this.now());
    return Number(info.lastInsertRowid);
  }

  /**
   * Closes the task's open run (the one with `ended_at IS NULL`) and clears `current_run_id`.
   * Returns the closed run's id, or null when no run was open.
   */
  endRun(taskId: string, close: RunClose): number | null {
    const closed = this.closeOpenRuns(taskId, close);
    this.stmt("UPDATE tasks SET current_run_id = NULL WHERE id = ? AND current_run_id IS NOT NULL").run(taskId);
    return closed;
  }

  /**
   * The run half of {@link endRun}, for callers whose own UPDATE of the task already cleared
   * `current_run_id`. Returns the closed run's id, or null when no run was open.
   */
  closeOpenRuns(taskId: string, close: RunClose): number | null {
    const open = this.stmt("SELECT id FROM task_runs WHERE task_id = ? AND ended_at IS NULL ORDER BY id DESC").all(
      taskId,
    ) as {
      id: number;
    }[];
    if (open.length === 0) return null;
    const now = this.now();
    const update = this.stmt(
      `UPDATE task_runs SET status = ?, outcome = ?, summary = ?, error = ?, metadata = ?, ended_at = ?,
         ${CLEAR_CLAIM}
       WHERE id = ? AND ended_at IS NULL`,
    );
    // The newest open run gets the outcome; any older dangling ones are closed as invariant recovery.
    const [newest, ...dangling] = open;
    for (const run of dangling)
      update.run("reclaimed", "reclaimed", "invariant recovery: superseded open run", null, null, now, run.id);
    update.run(
      close.status,
      close.outcome,
      close.summary ?? null,
      close.error ?? null,
      jsonOrNull(close.metadata),
      now,
      newest?.id,
    );
    return newest?.id ?? null;
  }

  /**
   * A zero-length closed run for a never-claimed task that was settled with handoff text. Its
   * status is its outcome (spec §1.6: a synthesized run has started_at == ended_at, status == outcome).
   */
  synthesizeRun(task: Pick<Task, "id" | "assignee" | "current_step_key">, close: RunClose): number {
    const now = this.now();
    const info = this.stmt(
      `INSERT INTO task_runs (task_id, profile, step_key, status, started_at, ended_at, outcome, summary, metadata, error)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      task.id,
      task.assignee,
      task.current_step_key,
      close.outcome,
      now,
      now,
      close.outcome,
      close.summary ?? null,
      jsonOrNull(close.metadata),
      close.error ?? null,
    );
    return Number(info.lastInsertRowid);
  }

  /** Direct parents that are neither done nor archived. */
  unfinishedParents(taskId: string): { id: string; title: string; status: string }[] {
    return this.stmt(
      `SELECT t.id, t.title, t.status FROM task_links l JOIN tasks t ON t.id = l.parent_id
       WHERE l.child_id = ? AND t.status NOT IN ('done', 'archived') ORDER BY t.id`,
    ).all(taskId) as { id: string; title: string; status: string }[];
  }

  parentsSatisfied(taskId: string): boolean {
    return (
      this.stmt(
        `SELECT 1 FROM task_links l JOIN tasks t ON t.id = l.parent_id
       WHERE l.child_id = ? AND t.status NOT IN ('done', 'archived') LIMIT 1`,
      ).get(taskId) === undefined
    );
  }
}
