import { reviveVerdicts } from "../auto-revive.ts";
import { BudgetHolds } from "../budgets.ts";
import type { BoardContext } from "../context.ts";
import { judgeRespawnGuard, respawnGuardWindowStart } from "../respawn-guard.ts";
import { guardRows, latestParkEvents, tasksByIds, unfinishedParentsOf } from "../store/sqlite/motion-reads.ts";
import { listHosts } from "../hosts.ts";
import { missingLabels } from "../labels.ts";
import { runningPerProfile } from "../store/sqlite/ready-lane.ts";
import { requiresOf } from "../store/sqlite/requires.ts";
import { newestClosedRunFacts } from "../store/sqlite/latest-runs.ts";
import { runStartTimes } from "../store/sqlite/runs.ts";
import { REOPEN_KINDS } from "../store/sqlite/respawn-reads.ts";
import { type VerificationStage, verificationStages } from "../store/sqlite/gates.ts";
import type { Task } from "../types.ts";
import { guardHold, laneHold, type ReadyHold } from "./holds.ts";
import { incidentMotionOf, openIncidentsForMotion } from "./incident-hold.ts";
import { judgeMotion, type TaskFacts } from "./judge.ts";
import type { HostFacts, HostHold, Motion, MotionHost, MotionScope } from "./types.ts";

/**
 * Whether anyone can claim a task that requires `requires`: a connected host serving the task's
 * tenant that offers every label, or the local dispatcher. Null when one can, else the hold.
 */
function labelsHold(
  requires: readonly string[],
  tenant: string | null,
  hosts: readonly MotionHost[],
  local: readonly string[],
): ReadyHold | null {
  const candidates = [
    local,
    ...hosts.filter((h) => h.connected && ((h.tenant ?? null) === null || h.tenant === tenant)).map((h) => h.labels),
  ];
  if (candidates.some((offered) => missingLabels(requires, offered).length === 0)) return null;
  const union = candidates.flat();
  const missing = missingLabels(requires, union);
  return {
    code: "no_host_for_labels",
    requires,
    missing: missing.length > 0 ? missing : [...requires],
    judged: "connected_hosts",
  };
}

const REOPENING = new Set(REOPEN_KINDS);
const HANDOFF_KINDS = new Set(["assigned", "changes_requested", "review_reopened"]);

/** Rows by task id, each list in the rows' order. */
function group<R extends { task_id: string }>(rows: R[]): Map<string, R[]> {
  const out = new Map<string, R[]>();
  for (const r of rows) {
    const list = out.get(r.task_id);
    if (list) list.push(r);
    else out.set(r.task_id, [r]);
  }
  return out;
}

function num(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

/** A dispatcher's hold (its last tick, or its lane's `held` skip) as the lane's hold; the detail's numbers when it gave them. */
export function hostHold(
  h: Pick<HostHold, "code" | "detail">,
  task: Pick<Task, "assignee">,
  facts: HostFacts,
): ReadyHold {
  const d = h.detail ?? {};
  if (h.code === "memory_floor")
    return { code: "memory_floor", available_mb: num(d.available_mb), floor_mb: num(d.floor_mb) };
  if (h.code === "host_cap")
    return {
      code: "host_cap_full",
      running: num(d.running) ?? facts.hostCap?.running ?? null,
      max: num(d.max) ?? facts.hostCap?.max ?? null,
    };
  return {
    code: "profile_cap_full",
    assignee: typeof d.assignee === "string" ? d.assignee : (task.assignee ?? "?"),
    running: num(d.running) ?? num(d.current) ?? 0,
    max: num(d.max) ?? facts.maxInProgressPerProfile ?? 0,
  };
}

/**
 * The motion of each task, in a fixed number of statements whatever their number (the board's cards
 * use it): unfinished parents, the newest park events, the respawn guard's rows for ready tasks,
 * attempt starts for running ones. Pure apart from those reads; `facts` is what only the host knows.
 * In a tenant's scope a parent of another tenant is counted, never named.
 */
export async function motionsOf(
  ctx: BoardContext,
  tasks: readonly Task[],
  facts: HostFacts = {},
  scope: MotionScope = {},
  hints: { runStarts?: Map<number, number> } = {},
): Promise<Map<string, Motion>> {
  const out = new Map<string, Motion>();
  if (tasks.length === 0) return out;
  const now = ctx.now();
  const ids = (pred: (t: Task) => boolean) => tasks.filter(pred).map((t) => t.id);
  const waiting = ids((t) => t.status === "todo" || t.status === "ready");
  const parked = ids((t) => t.status === "blocked" || t.status === "scheduled");
  const ready = ids((t) => t.status === "ready" && t.claim_lock === null);
  const runs = tasks
    .filter((t) => t.claim_lock !== null && t.current_run_id !== null)
    .map((t) => t.current_run_id as number);

  const parents = new Map<string, { id: string; title: string; status: string; tenant: string | null }[]>();
  for (const p of waiting.length > 0 ? await unfinishedParentsOf(ctx, waiting) : []) {
    const list = parents.get(p.child_id) ?? [];
    list.push(p);
    parents.set(p.child_id, list);
  }
  const parks = new Map<string, { kind: string; payload: string | null; created_at: number; id: number }[]>();
  for (const e of parked.length > 0 ? await latestParkEvents(ctx, parked) : []) {
    const list = parks.get(e.task_id) ?? [];
    list.push(e);
    parks.set(e.task_id, list);
  }
  for (const list of parks.values()) list.sort((a, b) => b.id - a.id);
  // Only a card whose newest park is the breaker's trip can be revived (one more read, only then).
  const tripped = parked.filter(
    (id) => parks.get(id)?.find((e) => e.kind === "blocked" || e.kind === "gave_up")?.kind === "gave_up",
  );
  const revives = tripped.length > 0 ? await reviveVerdicts(ctx, tripped, facts.autoRevive ?? {}) : new Map();

  // The gate each card in review waits at (gates.ts), for all of them at once.
  const inReview = ids((t) => t.status === "review");
  const gateStages =
    inReview.length > 0 ? await verificationStages(ctx, inReview) : new Map<string, VerificationStage>();
  const since = respawnGuardWindowStart(now);
  const guardByTask = group(ready.length > 0 ? await guardRows(ctx, ready, since) : []);
  const incidents = await openIncidentsForMotion(ctx, ready.length);
  const budgets = ready.length > 0 ? await BudgetHolds.read(ctx) : BudgetHolds.none;
  const latestRuns = ready.length > 0 ? await newestClosedRunFacts(ctx, ready) : new Map();
  const cap = facts.maxInProgressPerProfile ?? null;
  const perProfile = cap !== null && ready.length > 0 ? await runningPerProfile(ctx) : new Map<string, number>();
  const starts = hints.runStarts ?? (runs.length > 0 ? await runStartTimes(ctx, runs) : new Map<number, number>());

  const known = facts.knownProfiles ?? null;
  const isSpawnable = (p: string) => known === null || known.includes(p);
  const fallback = facts.defaultAssignee && isSpawnable(facts.defaultAssignee) ? facts.defaultAssignee : null;
  const holds = new Map((facts.holds ?? []).map((h) => [h.task_id, h]));
  // Routing: the labels ready tasks require, and (only when one does) who could take them.
  const requires = ready.length > 0 ? await requiresOf(ctx, ready) : new Map<string, string[]>();
  const hosts: readonly MotionHost[] = requires.size === 0 ? [] : (facts.hosts ?? (await listHosts(ctx, null)));
  const localLabels = facts.localLabels ?? [];

  for (const task of tasks) {
    let readyHold: ReadyHold | null = null;
    if (task.status === "ready" && task.claim_lock === null) {
      const assignee = task.assignee || fallback;
      const needs = requires.get(task.id);
      // The lane's order: routing by labels first, then its own rules.
      if (needs !== undefined) readyHold = labelsHold(needs, task.tenant, hosts, localLabels);
      if (readyHold === null)
        readyHold = laneHold({ assignee, isSpawnable, running: assignee ? (perProfile.get(assignee) ?? 0) : 0, cap });
      if (readyHold?.code === "not_runnable_profile") readyHold = { ...readyHold, known };
      // The lane's order: its own rules, then the dispatcher's admission holds, then the respawn guard.
      const host = holds.get(task.id);
      if (readyHold === null && host) readyHold = hostHold(host, task, facts);
      // Then a spent budget, as the walk judges it (budgets.ts).
      const budget = readyHold === null && assignee ? await budgets.holding(ctx, { ...task, assignee }) : null;
      if (budget !== null) readyHold = { code: "budget", ...budget };
      if (readyHold === null) {
        const rows = guardByTask.get(task.id) ?? [];
        const succeededAt = rows.find((r) => r.kind === "completed")?.created_at ?? null;
        const mine = rows.filter((r) => r.kind !== "completed" && r.kind !== "comment");
        // Newest first, as respawn-reads.ts reads them: the newest PR link decides.
        const comments = rows
          .filter((r) => r.kind === "comment")
          .map((r) => ({ body: r.payload ?? "", created_at: r.created_at }))
          .sort((x, y) => y.created_at - x.created_at);
        const guard = judgeRespawnGuard(
          {
            task_id: task.id,
            fallback_failure_at: task.started_at ?? task.created_at,
            latest_run: latestRuns.get(task.id) ?? null,
            last_failure_error: task.last_failure_error,
            succeeded_at: succeededAt,
            reopened_after_success:
              succeededAt !== null && mine.some((e) => REOPENING.has(e.kind) && e.created_at >= succeededAt),
            recent_comments: comments,
            handoffs: mine.filter((e) => HANDOFF_KINDS.has(e.kind)),
          },
          now,
        );
        if (guard !== null) readyHold = guardHold(guard);
      }
    }
    const all = parents.get(task.id) ?? [];
    const visible = scope.tenant ? all.filter((p) => p.tenant === scope.tenant) : all;
    const taskFacts: TaskFacts = {
      parents: visible.map(({ id, title, status }) => ({ id, title, status })),
      hiddenParents: all.length - visible.length,
      parkEvents: parks.get(task.id) ?? [],
      readyHold,
      attemptStartedAt: task.current_run_id !== null ? (starts.get(task.current_run_id) ?? null) : null,
      failureLimit: task.max_retries ?? ctx.failureLimit,
      hostLocal: ctx.isHostLocal(task.claim_lock),
      revive: task.status === "blocked" ? (revives.get(task.id) ?? null) : null,
      gateStage: task.status === "review" ? (gateStages.get(task.id) ?? null) : null,
    };
    // An incident's pause comes after the lane's own rules and before the respawn guard, as in the walk.
    const lane = readyHold !== null && readyHold.code !== "respawn_guard" && readyHold.code !== "budget";
    const paused = incidentMotionOf(task, task.assignee || fallback, lane, incidents, now);
    out.set(task.id, paused ?? judgeMotion(task, taskFacts, facts, now));
  }
  return out;
}

/** The motion of each id that names a task (unknown ids are absent from the map). */
export async function motionsByIds(
  ctx: BoardContext,
  ids: readonly string[],
  facts: HostFacts = {},
  scope: MotionScope = {},
): Promise<Map<string, Motion>> {
  if (ids.length === 0) return new Map();
  return await motionsOf(ctx, await tasksByIds(ctx, ids), facts, scope);
}
