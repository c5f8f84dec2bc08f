import { parseJsonObject } from "../../rows.ts";
import type { SqlContext } from "./session.ts";

// Incident folding (`kanban_incidents`, migration 0005/0006): the rows, and the recent badly-ended
// runs of one scope that decide whether a new failure opens one (incidents.ts).

export type IncidentScope = "profile" | "host";

/** A `kanban_incidents` row as the kernel reads it (`task_ids` parsed). */
export interface IncidentRow {
  id: number;
  scope: IncidentScope;
  scope_key: string;
  failure_class: string;
  tenant: string | null;
  opened_at: number;
  closed_at: number | null;
  closed_by: string | null;
  failures: number;
  task_ids: string[];
  last_error: string | null;
  probes: number;
  next_probe_at: number | null;
  probe_task_id: string | null;
  probe_run_id: number | null;
}

const COLUMNS =
  "id, scope, scope_key, failure_class, tenant, opened_at, closed_at, closed_by, failures, task_ids, last_error, probes, next_probe_at, probe_task_id, probe_run_id";

type Raw = Omit<IncidentRow, "task_ids"> & { task_ids: string | null };

function num(v: unknown): number {
  return typeof v === "number" ? v : Number(v);
}

function numOrNull(v: unknown): number | null {
  return v === null || v === undefined ? null : num(v);
}

function taskIdsOf(text: string | null): string[] {
  if (!text) return [];
  try {
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed) ? parsed.filter((x): x is string => typeof x === "string") : [];
  } catch {
    return [];
  }
}

function fromRaw(r: Raw): IncidentRow {
  return {
    ...r,
    id: num(r.id),
    opened_at: num(r.opened_at),
    closed_at: numOrNull(r.closed_at),
    failures: num(r.failures),
    probes: num(r.probes),
    next_probe_at: numOrNull(r.next_probe_at),
    probe_run_id: numOrNull(r.probe_run_id),
    task_ids: taskIdsOf(r.task_ids),
  };
}

export async function incidentById(ctx: SqlContext, id: number): Promise<IncidentRow | null> {
  const row = (await ctx.get(`SELECT ${COLUMNS} FROM kanban_incidents WHERE id = ?`, id)) as Raw | undefined;
  return row ? fromRaw(row) : null;
}

/** Every open incident (closed_at NULL), oldest first: few at any time, read by every claim walk. */
export async function openIncidentRows(ctx: SqlContext): Promise<IncidentRow[]> {
  const rows = (await ctx.all(`SELECT ${COLUMNS} FROM kanban_incidents WHERE closed_at IS NULL ORDER BY id`)) as Raw[];
  return rows.map(fromRaw);
}

/** The open incident of one scope and class, if any. */
export async function openIncidentOf(
  ctx: SqlContext,
  scope: IncidentScope,
  key: string,
  failureClass: string,
): Promise<IncidentRow | null> {
  const row = (await ctx.get(
    `SELECT ${COLUMNS} FROM kanban_incidents WHERE scope = ? AND scope_key = ? AND closed_at IS NULL AND failure_class = ? ORDER BY id LIMIT 1`,
    scope,
    key,
    failureClass,
  )) as Raw | undefined;
  return row ? fromRaw(row) : null;
}

/**
 * Incidents newest first: open ones only, or all (at most `limit`). `tenant` null: every row (the
 * operator); otherwise only that tenant's rows.
 */
export async function incidentRows(
  ctx: SqlContext,
  f: { open: boolean; tenant: string | null; limit: number },
): Promise<IncidentRow[]> {
  const rows = (await ctx.all(
    `SELECT ${COLUMNS} FROM kanban_incidents WHERE (:open = 0 OR closed_at IS NULL) AND (:tenant IS NULL OR tenant = :tenant) ORDER BY id DESC LIMIT :limit`,
    { open: f.open ? 1 : 0, tenant: f.tenant, limit: f.limit },
  )) as Raw[];
  return rows.map(fromRaw);
}

export interface NewIncident {
  scope: IncidentScope;
  scope_key: string;
  failure_class: string;
  tenant: string | null;
  opened_at: number;
  failures: number;
  task_ids: string[];
  last_error: string | null;
  next_probe_at: number;
}

export async function insertIncident(ctx: SqlContext, i: NewIncident): Promise<number> {
  return await ctx.insert(
    `INSERT INTO kanban_incidents (scope, scope_key, failure_class, tenant, opened_at, failures, task_ids, last_error, probes, next_probe_at)
     VALUES (:scope, :scope_key, :failure_class, :tenant, :opened_at, :failures, :task_ids, :last_error, 0, :next_probe_at)`,
    { ...i, task_ids: JSON.stringify(i.task_ids) },
  );
}

/** One more run folded in: the count, the cards, the last error and the tenant (null once mixed). */
export async function foldIntoIncident(
  ctx: SqlContext,
  id: number,
  w: { failures: number; task_ids: string[]; last_error: string | null; tenant: string | null },
): Promise<void> {
  await ctx.run(
    "UPDATE kanban_incidents SET failures = ?, task_ids = ?, last_error = ?, tenant = ? WHERE id = ? AND closed_at IS NULL",
    w.failures,
    JSON.stringify(w.task_ids),
    w.last_error,
    w.tenant,
    id,
  );
}

/** The probe of an open incident: started (a task and run), or ended (both null, the next one's time). */
export async function setIncidentProbe(
  ctx: SqlContext,
  id: number,
  w: { probe_task_id: string | null; probe_run_id: number | null; probes: number; next_probe_at: number | null },
): Promise<void> {
  await ctx.run(
    "UPDATE kanban_incidents SET probe_task_id = ?, probe_run_id = ?, probes = ?, next_probe_at = ? WHERE id = ? AND closed_at IS NULL",
    w.probe_task_id,
    w.probe_run_id,
    w.probes,
    w.next_probe_at,
    id,
  );
}

/** Closes an open incident; false when it was closed already. */
export async function closeIncidentRow(ctx: SqlContext, id: number, closedBy: string, now: number): Promise<boolean> {
  const r = await ctx.run(
    "UPDATE kanban_incidents SET closed_at = ?, closed_by = ?, probe_run_id = NULL, next_probe_at = NULL WHERE id = ? AND closed_at IS NULL",
    now,
    closedBy,
    id,
  );
  return r.changes > 0;
}

/** A run of the scope that ended since the window began, with what classifies it. */
export interface ScopeRun {
  id: number;
  task_id: string;
  outcome: string | null;
  metadata: Record<string, unknown> | null;
  error: string | null;
  ended_at: number;
}

/**
 * Runs of one scope that ended at or after `since`: runs of tasks assigned to the profile, or runs a
 * host claimed. An ended run keeps no claim lock, so a host's runs are found by the lock of their
 * `claimed` event (`<host_id>:<pid>`), matched here rather than in SQL: the engines read JSON apart.
 */
export async function scopeRunsSince(
  ctx: SqlContext,
  scope: IncidentScope,
  key: string,
  since: number,
): Promise<ScopeRun[]> {
  type Raw = {
    id: unknown;
    task_id: string;
    outcome: string | null;
    metadata: string | null;
    error: string | null;
    ended_at: unknown;
    claimed?: string | null;
  };
  const rows = (
    scope === "profile"
      ? await ctx.all(
          "SELECT r.id, r.task_id, r.outcome, r.metadata, r.error, r.ended_at FROM task_runs r JOIN tasks t ON t.id = r.task_id WHERE r.ended_at IS NOT NULL AND r.ended_at >= ? AND t.assignee = ? ORDER BY r.ended_at, r.id",
          since,
          key,
        )
      : await ctx.all(
          "SELECT r.id, r.task_id, r.outcome, r.metadata, r.error, r.ended_at, e.payload AS claimed FROM task_runs r JOIN task_events e ON e.task_id = r.task_id AND e.run_id = r.id AND e.kind = 'claimed' WHERE r.ended_at IS NOT NULL AND r.ended_at >= ? ORDER BY r.ended_at, r.id",
          since,
        )
  ) as Raw[];
  const prefix = `${key}:`;
  return rows
    .filter((r) => scope === "profile" || String(parseJsonObject(r.claimed ?? null)?.lock ?? "").startsWith(prefix))
    .map((r) => ({
      id: num(r.id),
      task_id: r.task_id,
      outcome: r.outcome,
      metadata: parseJsonObject(r.metadata),
      error: r.error,
      ended_at: num(r.ended_at),
    }));
}

/** The claim lock a run was claimed under (its `claimed` event), or null: an ended run keeps none. */
export async function claimLockOfRun(ctx: SqlContext, taskId: string, runId: number): Promise<string | null> {
  const row = (await ctx.get(
    "SELECT payload FROM task_events WHERE task_id = ? AND run_id = ? AND kind = 'claimed' ORDER BY id LIMIT 1",
    taskId,
    runId,
  )) as { payload: string | null } | undefined;
  const lock = parseJsonObject(row?.payload ?? null)?.lock;
  return typeof lock === "string" ? lock : null;
}

/** The tenants of `ids` (absent ids are left out). */
export async function tenantsOf(ctx: SqlContext, ids: readonly string[]): Promise<Map<string, string | null>> {
  if (ids.length === 0) return new Map();
  const rows = (await ctx.all(
    "SELECT id, tenant FROM tasks WHERE id IN (SELECT value FROM json_each(?))",
    JSON.stringify(ids),
  )) as { id: string; tenant: string | null }[];
  return new Map(rows.map((r) => [r.id, r.tenant]));
}

/** When the newest closed incident of this scope and class closed (null: none): runs before it are spent. */
export async function lastClosedAt(
  ctx: SqlContext,
  scope: IncidentScope,
  key: string,
  failureClass: string,
): Promise<number | null> {
  const row = (await ctx.get(
    "SELECT MAX(closed_at) AS at FROM kanban_incidents WHERE scope = ? AND scope_key = ? AND failure_class = ? AND closed_at IS NOT NULL",
    scope,
    key,
    failureClass,
  )) as { at: unknown } | undefined;
  return numOrNull(row?.at);
}

/** Incidents a probe closed at or after `since` (their folded cards may skip the outage's cooldowns). */
export async function probeClosedSince(ctx: SqlContext, since: number): Promise<IncidentRow[]> {
  const rows = (await ctx.all(
    `SELECT ${COLUMNS} FROM kanban_incidents WHERE closed_at IS NOT NULL AND closed_at >= ? AND closed_by = 'probe' ORDER BY id`,
    since,
  )) as Raw[];
  return rows.map(fromRaw);
}

/**
 * The card whose failure opened the incident (its `incident_opened` event), or null. The payload is
 * matched here rather than in SQL: incident events are few, and the two engines read JSON apart.
 */
export async function openedOnTask(ctx: SqlContext, incidentId: number): Promise<string | null> {
  const rows = (await ctx.all(
    "SELECT task_id, payload FROM task_events WHERE kind = 'incident_opened' ORDER BY id DESC LIMIT 1000",
  )) as { task_id: string; payload: string | null }[];
  return rows.find((r) => parseJsonObject(r.payload)?.incident_id === incidentId)?.task_id ?? null;
}
