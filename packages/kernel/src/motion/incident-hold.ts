import type { LaneSkip } from "../claim-next.ts";
import type { BoardContext } from "../context.ts";
import { type IncidentRow, openIncidentRows } from "../store/sqlite/incidents.ts";
import type { Task } from "../types.ts";
import type { Motion } from "./types.ts";
import { clockTime } from "./words.ts";

/** What the pause sentence needs of an incident (a row, or the lane's skip entry). */
export interface IncidentPauseFacts {
  incident_id: number;
  failure_class: string;
  scope: "profile" | "host";
  scope_key: string;
  since: number;
  next_probe_at: number | null;
}

/**
 * The motion of a ready card whose profile (or host) an open incident pauses: one sentence for
 * `kanban why`, the board's card and the dispatcher's skip report.
 */
export function incidentPauseMotion(p: IncidentPauseFacts, now: number): Motion {
  const probe =
    p.next_probe_at === null
      ? "a probe is running"
      : p.next_probe_at <= now
        ? "next probe at the next tick"
        : `next probe at ${clockTime(p.next_probe_at)}`;
  return {
    moving: false,
    code: "incident_paused",
    line: `Paused by incident #${p.incident_id} (${p.failure_class} on ${p.scope} ${p.scope_key}, since ${clockTime(p.since)}; ${probe}).`,
    next: `Nothing: a probe run resumes the ${p.scope} once it succeeds; or resume it now: kanban incidents resume ${p.incident_id}`,
    detail: { ...p },
  };
}

export function incidentSkipMotion(skip: Extract<LaneSkip, { reason: "incident" }>, now: number): Motion {
  const { task_id: _task, reason: _reason, ...facts } = skip;
  return incidentPauseMotion(facts, now);
}

/** The open incidents, read once for a batch of motions (none when no card is ready). */
export async function openIncidentsForMotion(ctx: BoardContext, readyCount: number): Promise<IncidentRow[]> {
  return readyCount > 0 ? await openIncidentRows(ctx) : [];
}

/**
 * The pause of a ready, unclaimed card of a paused profile, unless the lane's own rules hold it
 * first (nobody assigned, no such profile, its cap, labels: `held` says so). Null: not paused.
 */
export function incidentMotionOf(
  task: Task,
  assignee: string | null,
  held: boolean,
  open: readonly IncidentRow[],
  now: number,
): Motion | null {
  if (held || assignee === null || task.status !== "ready" || task.claim_lock !== null) return null;
  const i = open.find((o) => o.scope === "profile" && o.scope_key === assignee);
  if (i === undefined) return null;
  return incidentPauseMotion(
    {
      incident_id: i.id,
      failure_class: i.failure_class,
      scope: i.scope,
      scope_key: i.scope_key,
      since: i.opened_at,
      next_probe_at: i.probe_run_id !== null ? null : i.next_probe_at,
    },
    now,
  );
}
