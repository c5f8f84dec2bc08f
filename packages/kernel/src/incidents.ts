import type { BoardContext } from "./context.ts";
import { notFound, wrongState } from "./errors.ts";
import { appendEvent } from "./store/sqlite/events.ts";
import { hostRow } from "./store/sqlite/hosts.ts";
import {
  claimLockOfRun,
  closeIncidentRow,
  foldIntoIncident,
  type IncidentRow,
  type IncidentScope,
  incidentById,
  incidentRows,
  insertIncident,
  lastClosedAt,
  openIncidentOf,
  openedOnTask,
  openIncidentRows,
  probeClosedSince,
  type ScopeRun,
  scopeRunsSince,
  setIncidentProbe,
  tenantsOf,
} from "./store/sqlite/incidents.ts";
import { newestClosedRuns, runById } from "./store/sqlite/run-reads.ts";
import { endRun } from "./store/sqlite/runs.ts";
import { bookFailures, requeueAfterSpawnFailure } from "./store/sqlite/tasks.ts";
import type { Task } from "./types.ts";

export type { IncidentRow, IncidentScope } from "./store/sqlite/incidents.ts";

// Incident folding (issue 17): several runs of one profile (or remote host) that end badly with the
// same failure class inside a short window are one outage, not N card failures. The outage opens one
// incident; while it is open the scope is paused (the claim walk starts only one probe run at a time)
// and runs of its class count no failure towards any card's breaker, so no card is blocked for good
// by a provider blip. A probe that completes, or a person, closes it.

/** The board's incident policy (config `kanban.incident_*`). */
export interface IncidentPolicy {
  /** Runs of one scope failing with one class inside the window that make an incident. */
  threshold: number;
  windowSeconds: number;
  /** The wait before the first probe; doubled after each failed probe up to {@link probeMaxSeconds}. */
  probeSeconds: number;
  probeMaxSeconds: number;
}

export const DEFAULT_INCIDENT_POLICY: IncidentPolicy = {
  threshold: 3,
  windowSeconds: 300,
  probeSeconds: 30,
  probeMaxSeconds: 600,
};

/** How many incidents a list answers at most (open ones are few; history is capped). */
const LIST_LIMIT = 200;

// The policy lives beside the board's context rather than in it: a process that opens boards (the
// dispatcher, the API) sets it once per board, asked each time so a config reload counts.
const policies = new WeakMap<BoardContext, () => Partial<IncidentPolicy>>();

export function setIncidentPolicy(ctx: BoardContext, policy: () => Partial<IncidentPolicy>): void {
  policies.set(ctx, policy);
}

export function incidentPolicy(ctx: BoardContext): IncidentPolicy {
  const p = { ...DEFAULT_INCIDENT_POLICY, ...(policies.get(ctx)?.() ?? {}) };
  return {
    threshold: Math.max(1, Math.floor(p.threshold)),
    windowSeconds: Math.max(1, p.windowSeconds),
    probeSeconds: Math.max(0, p.probeSeconds),
    probeMaxSeconds: Math.max(p.probeSeconds, p.probeMaxSeconds),
  };
}

/** When the probe after `probes` failed ones may start: the base wait, doubled per failed probe, capped. */
export function nextProbeAt(policy: IncidentPolicy, probes: number, now: number): number {
  const wait = Math.min(policy.probeSeconds * 2 ** Math.min(probes, 30), policy.probeMaxSeconds);
  return now + Math.round(wait);
}

/** Outcomes of a run that did not end badly: they never count towards an incident. */
const CLEAN_OUTCOMES = new Set(["completed", "blocked", "scheduled", "cancelled", "stale", "reconciled", "archived"]);

/**
 * The failure class of an ended run: the one the run's metadata records (`failure_class`, written
 * by the failure-class rules for every badly-ended run), else what its outcome and flags say. Null
 * for a run that did not end badly.
 */
export function runFailureClass(run: {
  outcome: string | null;
  metadata: Record<string, unknown> | null;
}): string | null {
  const m = run.metadata ?? {};
  if (typeof m.failure_class === "string" && m.failure_class !== "") return m.failure_class;
  if (run.outcome === null || CLEAN_OUTCOMES.has(run.outcome)) return null;
  if (run.outcome === "rate_limited" || m.rate_limited === true) return "rate_limited";
  if (m.infrastructure === true) return "infrastructure";
  if (m.protocol_violation === true) return "protocol_violation";
  return run.outcome === "gave_up" ? "spawn_failed" : run.outcome;
}

/** What a failure booking tells the incident rules (breaker.ts passes its own input). */
export interface FailureNote {
  outcome: string;
  error: string;
  infrastructure?: boolean;
  /** The spawn path: the breaker closes the still-open run `spawn_failed` (the class it will carry). */
  releaseClaim?: boolean;
  /**
   * The crash sweep saw several workers die the same way at once (recovery.ts `systemic`): that is
   * an outage already, so the incident opens with this failure (pausing the profile's other cards),
   * while the breaker still trips the burst's own cards as Hermes does (spec §2.10 systemic).
   */
  systemic?: boolean;
}

interface ScopeRef {
  scope: IncidentScope;
  key: string;
}

/** The remote host of a claim lock (`<host_id>:<pid>`) when the board knows that host; else null. */
async function hostOfLock(ctx: BoardContext, lock: string | null): Promise<string | null> {
  if (lock === null || ctx.isHostLocal(lock)) return null;
  const cut = lock.lastIndexOf(":");
  if (cut <= 0) return null;
  const id = lock.slice(0, cut);
  return (await hostRow(ctx, id)) === null ? null : id;
}

/** The run a failure booking is about: the task's open run (the spawn path), else its newest ended one. */
async function failedRun(
  ctx: BoardContext,
  task: Task,
  note: FailureNote,
): Promise<{ id: number | null; cls: string; lock: string | null }> {
  if (task.current_run_id !== null) {
    const run = await runById(ctx, task.current_run_id);
    const cls =
      note.infrastructure === true ? "infrastructure" : note.releaseClaim === true ? "spawn_failed" : note.outcome;
    return { id: task.current_run_id, cls: fromMeta(run?.metadata ?? null) ?? cls, lock: task.claim_lock };
  }
  const [run] = await newestClosedRuns(ctx, task.id, 1);
  if (run === undefined) return { id: null, cls: note.outcome, lock: task.claim_lock };
  const lock = run.claim_lock ?? (await claimLockOfRun(ctx, task.id, run.id));
  return { id: run.id, cls: runFailureClass(run) ?? note.outcome, lock };
}

function fromMeta(m: Record<string, unknown> | null): string | null {
  return typeof m?.failure_class === "string" && m.failure_class !== "" ? m.failure_class : null;
}

/**
 * Records a badly-ended run for the incident rules and answers whether it is folded into an open
 * incident (opened by this very failure, or already open for the run's profile or host and class).
 * A folded failure counts nothing towards the card's breaker. Runs inside the caller's transaction.
 */
export async function foldFailure(ctx: BoardContext, task: Task, note: FailureNote): Promise<IncidentRow | null> {
  const run = await failedRun(ctx, task, note);
  const scopes: ScopeRef[] = [];
  if (task.assignee) scopes.push({ scope: "profile", key: task.assignee });
  const host = await hostOfLock(ctx, run.lock);
  if (host !== null) scopes.push({ scope: "host", key: host });
  const now = ctx.now();
  const policy = incidentPolicy(ctx);
  let folded: IncidentRow | null = null;
  for (const s of scopes) {
    const open = await openIncidentOf(ctx, s.scope, s.key, run.cls);
    if (open !== null) {
      await foldRun(ctx, open, task, run.id, note.error.slice(0, 500), policy, now);
      folded ??= open;
      continue;
    }
    const opened = await maybeOpen(ctx, s, run, task, note, policy, now);
    folded ??= opened;
  }
  return folded;
}

async function foldRun(
  ctx: BoardContext,
  open: IncidentRow,
  task: Task,
  runId: number | null,
  error: string,
  policy: IncidentPolicy,
  now: number,
): Promise<void> {
  const taskIds = open.task_ids.includes(task.id) ? open.task_ids : [...open.task_ids, task.id];
  const tenant = open.tenant !== null && open.tenant === task.tenant ? open.tenant : null;
  await foldIntoIncident(ctx, open.id, { failures: open.failures + 1, task_ids: taskIds, last_error: error, tenant });
  // The probe failed the same way: the outage goes on, and the next probe waits longer.
  if (runId !== null && open.probe_run_id === runId) {
    const probes = open.probes + 1;
    await setIncidentProbe(ctx, open.id, {
      probe_task_id: null,
      probe_run_id: null,
      probes,
      next_probe_at: nextProbeAt(policy, probes, now),
    });
  }
  await appendEvent(ctx, task.id, "incident_folded", { incident_id: open.id }, runId);
}

/**
 * Opens an incident when this failure makes `threshold` runs of the scope with the class since the
 * window began (runs before the scope's last incident of that class closed are spent).
 */
async function maybeOpen(
  ctx: BoardContext,
  s: ScopeRef,
  run: { id: number | null; cls: string },
  task: Task,
  note: FailureNote,
  policy: IncidentPolicy,
  now: number,
): Promise<IncidentRow | null> {
  const closed = await lastClosedAt(ctx, s.scope, s.key, run.cls);
  const since = Math.max(now - policy.windowSeconds, closed === null ? 0 : closed + 1);
  const same = (await scopeRunsSince(ctx, s.scope, s.key, since)).filter(
    (r: ScopeRun) => r.id !== run.id && runFailureClass(r) === run.cls,
  );
  const taskIds: string[] = [];
  for (const r of same) if (!taskIds.includes(r.task_id)) taskIds.push(r.task_id);
  if (!taskIds.includes(task.id)) taskIds.push(task.id);
  // Cards, not runs: one card failing over and over is that card's problem (its breaker's), not an outage.
  if (note.systemic !== true && taskIds.length < policy.threshold) return null;
  const tenants = new Set((await tenantsOf(ctx, taskIds)).values());
  const [only] = [...tenants];
  const id = await insertIncident(ctx, {
    scope: s.scope,
    scope_key: s.key,
    failure_class: run.cls,
    tenant: tenants.size === 1 && only !== undefined ? only : null,
    opened_at: now,
    failures: same.length + 1,
    task_ids: taskIds,
    last_error: note.error.slice(0, 500),
    next_probe_at: nextProbeAt(policy, 0, now),
  });
  await appendEvent(
    ctx,
    task.id,
    "incident_opened",
    { incident_id: id, scope: s.scope, scope_key: s.key, failure_class: run.cls, failures: same.length + 1 },
    run.id,
  );
  return await incidentById(ctx, id);
}

/**
 * Books a failure folded into an incident: the card's counter stays as it is (only the error is
 * stamped), so an outage never trips a breaker. On the spawn path the card goes back to `ready`
 * and its run closes `spawn_failed`, naming the incident.
 */
export async function bookFoldedFailure(
  ctx: BoardContext,
  task: Task,
  incident: IncidentRow,
  input: { error: string; releaseClaim?: boolean; extra?: Record<string, unknown> },
): Promise<void> {
  const error = input.error.slice(0, 500);
  if (input.releaseClaim !== true) {
    await bookFailures(ctx, task.id, { failures: task.consecutive_failures, error, releaseClaim: false });
    return;
  }
  await requeueAfterSpawnFailure(ctx, task.id, task.consecutive_failures, error);
  const runId = await endRun(ctx, task.id, {
    status: "spawn_failed",
    outcome: "spawn_failed",
    error,
    metadata: { incident_id: incident.id, failure_class: incident.failure_class },
  });
  await appendEvent(
    ctx,
    task.id,
    "spawn_failed",
    { error, failures: task.consecutive_failures, ...input.extra, incident_id: incident.id },
    runId,
  );
}

/**
 * Settles the probes of open incidents whose probe run has ended: a completed probe closes the
 * incident (the scope resumes); a probe that ended badly in another way lets the next one wait
 * longer; one that ended cleanly otherwise (blocked, cancelled) just frees the probe slot. A probe
 * that failed with the incident's own class was already settled when it was folded.
 */
export async function settleProbes(ctx: BoardContext): Promise<void> {
  const now = ctx.now();
  const policy = incidentPolicy(ctx);
  for (const i of await openIncidentRows(ctx)) {
    if (i.probe_run_id === null) continue;
    const run = await runById(ctx, i.probe_run_id);
    if (run !== null && run.ended_at === null) continue;
    if (run?.outcome === "completed") {
      await closeIncident(ctx, i, "probe", run.task_id, run.id);
      continue;
    }
    const failed = run !== null && runFailureClass(run) !== null;
    const probes = failed ? i.probes + 1 : i.probes;
    await setIncidentProbe(ctx, i.id, {
      probe_task_id: null,
      probe_run_id: null,
      probes,
      next_probe_at: failed ? nextProbeAt(policy, probes, now) : (i.next_probe_at ?? now),
    });
  }
}

async function closeIncident(
  ctx: BoardContext,
  i: IncidentRow,
  closedBy: string,
  taskId: string | null,
  runId: number | null,
): Promise<boolean> {
  if (!(await closeIncidentRow(ctx, i.id, closedBy, ctx.now()))) return false;
  // A person's resume is told on the card that opened the incident; a probe's on the probe.
  const card = taskId ?? (await openedOnTask(ctx, i.id)) ?? i.task_ids[0] ?? null;
  if (card !== null) await appendEvent(ctx, card, "incident_closed", { incident_id: i.id, closed_by: closedBy }, runId);
  return true;
}

/** How an incident is shown (API, CLI, board banner): its row, and whether it is still open. */
export interface IncidentView extends IncidentRow {
  open: boolean;
}

function view(i: IncidentRow): IncidentView {
  return { ...i, open: i.closed_at === null };
}

/** Incidents newest first: open ones only (`open` true), or the recent history too. `tenant` null: every one. */
export async function listIncidents(
  ctx: BoardContext,
  opts: { open?: boolean; tenant?: string | null } = {},
): Promise<IncidentView[]> {
  const rows = await incidentRows(ctx, { open: opts.open === true, tenant: opts.tenant ?? null, limit: LIST_LIMIT });
  return rows.map(view);
}

export async function getIncident(ctx: BoardContext, id: number): Promise<IncidentView | null> {
  const row = await incidentById(ctx, id);
  return row === null ? null : view(row);
}

/**
 * A person resumes a paused scope: the incident closes (`closed_by: person:<by>`, event on the card
 * that triggered it). NOT_FOUND for an unknown id (or one outside `tenant`), WRONG_STATE once closed.
 */
export async function resumeIncident(
  ctx: BoardContext,
  id: number,
  opts: { by: string; tenant?: string | null },
): Promise<IncidentView> {
  return await ctx.tx(async () => {
    const row = await incidentById(ctx, id);
    const tenant = opts.tenant ?? null;
    if (row === null || (tenant !== null && row.tenant !== tenant))
      throw notFound(`incident ${id} not found`, { incident_id: id });
    if (row.closed_at !== null)
      throw wrongState(`incident ${id} is already closed (${row.closed_by ?? "closed"})`, {
        incident_id: id,
        closed_by: row.closed_by,
      });
    const by = opts.by.trim() || "unknown";
    await closeIncident(ctx, row, `person:${by}`, null, null);
    return view((await incidentById(ctx, id)) as IncidentRow);
  });
}

/**
 * The respawn guard's holds that only pace an outage (cooldowns after a rate limit, a transient or
 * infrastructure failure, the spread after a mass failure): an incident's probe backoff replaces them.
 */
const OUTAGE_COOLDOWNS: ReadonlySet<string> = new Set([
  "rate_limit_cooldown",
  "transient_cooldown",
  "infrastructure_cooldown",
  "respawn_jitter",
]);

/** How long after a probe closed an incident its folded cards may skip the outage's cooldowns. */
const RESOLVED_LOOKBACK_SECONDS = 3600;

/**
 * Whether the respawn guard's hold on a ready card is one an incident replaces: the card is the
 * probe of an open incident (the probe backoff paced it), or its last run was folded into an
 * incident that a probe has since closed (the outage is over, so its cooldown protects nothing).
 */
export async function incidentReplacesGuard(
  ctx: BoardContext,
  pauses: IncidentPauses,
  taskId: string,
  probing: IncidentRow | null,
  hold: { reason: string },
): Promise<boolean> {
  if (!OUTAGE_COOLDOWNS.has(hold.reason)) return false;
  if (probing !== null) return true;
  const resolved = pauses.resolved.filter((i) => i.task_ids.includes(taskId));
  if (resolved.length === 0) return false;
  const [last] = await newestClosedRuns(ctx, taskId, 1);
  if (last === undefined || last.ended_at === null) return false;
  const endedAt = last.ended_at;
  return resolved.some((i) => i.closed_at !== null && endedAt <= i.closed_at);
}

/** What pauses a scope in one claim walk: the open incidents, read once per walk. */
export class IncidentPauses {
  /** Incidents whose probe this walk has started (a walk starts at most one per incident). */
  private readonly probing = new Set<number>();

  constructor(
    readonly open: IncidentRow[],
    private readonly now: number,
    /** Incidents a probe closed lately, whose cards need not wait out the outage's cooldowns. */
    readonly resolved: IncidentRow[] = [],
  ) {}

  static async read(ctx: BoardContext): Promise<IncidentPauses> {
    const now = ctx.now();
    return new IncidentPauses(
      await openIncidentRows(ctx),
      now,
      await probeClosedSince(ctx, now - RESOLVED_LOOKBACK_SECONDS),
    );
  }

  /** The open incident pausing work of `assignee` (on the claiming host, when named), if any. */
  pausing(assignee: string, hostId: string | null): IncidentRow | null {
    return (
      this.open.find(
        (i) => (i.scope === "profile" && i.scope_key === assignee) || (i.scope === "host" && i.scope_key === hostId),
      ) ?? null
    );
  }

  /** Whether the incident's probe may start now: none running, and its time has come. */
  mayProbe(i: IncidentRow): boolean {
    return !this.probing.has(i.id) && i.probe_run_id === null && (i.next_probe_at ?? 0) <= this.now;
  }

  /** Marks the incident's probe as started by this walk (and, unless a dry run, on its row). */
  async startProbe(ctx: BoardContext | null, i: IncidentRow, task: Task | null): Promise<void> {
    this.probing.add(i.id);
    if (ctx === null || task === null) return;
    i.probe_task_id = task.id;
    i.probe_run_id = task.current_run_id;
    await setIncidentProbe(ctx, i.id, {
      probe_task_id: task.id,
      probe_run_id: task.current_run_id,
      probes: i.probes,
      next_probe_at: i.next_probe_at,
    });
  }
}

/**
 * The breaker's one question (breaker.ts `recordTaskFailure`): is this failure folded into an
 * incident? If so it has been booked here without counting (see {@link bookFoldedFailure}) and the
 * breaker does nothing more; a forced trip is recorded but answered false. Runs inside the
 * breaker's transaction.
 */
export async function foldedFailure(
  ctx: BoardContext,
  task: Task,
  input: {
    error: string;
    outcome: string;
    releaseClaim?: boolean;
    infrastructure?: boolean;
    extra?: Record<string, unknown>;
    forceTrip?: boolean;
  },
): Promise<boolean> {
  const incident = await foldFailure(ctx, task, {
    outcome: input.outcome,
    error: input.error,
    infrastructure: input.infrastructure,
    releaseClaim: input.releaseClaim,
    systemic: input.extra?.systemic === true,
  });
  // A forced trip (a systemic burst, a protocol-violation streak) is the breaker's explicit verdict:
  // recorded for the incident above, but it still trips.
  if (incident === null || input.forceTrip === true) return false;
  await bookFoldedFailure(ctx, task, incident, input);
  return true;
}

/**
 * A failure the breaker does not count anyway (a rate limit, a transient failure: breaker.ts
 * `stampFailureError`) still belongs to the scope's outage: recorded, folded, opening an incident.
 */
export async function noteUncountedFailure(ctx: BoardContext, task: Task, error: string): Promise<void> {
  await foldFailure(ctx, task, { outcome: "rate_limited", error });
}
