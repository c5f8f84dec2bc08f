import { SEVERITY_RANK } from "./format.ts";
import type { AttentionRow, FlaggedTask } from "./types.ts";

/**
 * One row of the attention strip. board.get sends the worst 100 already in this shape; the full list,
 * asked of diagnostics.list only when someone opens it, is turned into the same rows here.
 */
export type AttentionItem = AttentionRow;

/**
 * Rows of a full list (diagnostics.list), made as the server makes board.get's: the worst diagnostic
 * per task (highest severity, then newest), worst tasks first, then the most recent, then the id.
 */
export function attentionItems(flagged: readonly FlaggedTask[]): AttentionItem[] {
  const items: AttentionItem[] = [];
  for (const f of flagged) {
    const worst = [...f.diagnostics].sort(
      (a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || b.last_seen_at - a.last_seen_at,
    )[0];
    if (!worst) continue;
    items.push({
      task_id: f.task_id,
      title: f.task_title,
      status: f.task_status,
      assignee: f.task_assignee,
      severity: worst.severity,
      reason: worst.title,
      count: f.diagnostics.length,
      latest_at: Math.max(...f.diagnostics.map((d) => d.last_seen_at)),
    });
  }
  return items.sort(
    (a, b) =>
      SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] ||
      b.latest_at - a.latest_at ||
      (a.task_id < b.task_id ? -1 : 1),
  );
}

/**
 * What a dismissal remembers: the tasks the person had in front of them (the rows shown, or the whole
 * list when they had opened it) and how many were flagged then.
 */
export interface Dismissal {
  ids: string[];
  total: number;
}

/** A dismissal as stored in sessionStorage, or null for anything else (a list of ids from an older board counts). */
export function parseDismissal(raw: unknown): Dismissal | null {
  const strings = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : null);
  // Before the strip was capped the whole flagged list was shown, so its ids were also its total.
  const legacy = strings(raw);
  if (legacy) return { ids: legacy, total: legacy.length };
  if (typeof raw !== "object" || raw === null) return null;
  const r = raw as { ids?: unknown; total?: unknown };
  const ids = strings(r.ids);
  if (!ids || typeof r.total !== "number" || !Number.isFinite(r.total) || r.total < 0) return null;
  return { ids, total: r.total };
}

/**
 * Whether a dismissed strip comes back: only when something new is flagged. The board sends the
 * worst rows and a total, not every flagged id, so "new" is a row the person had not seen when they
 * dismissed it, or more flagged tasks than then (a new problem past the shown rows still counts).
 * A task that climbs into the shown rows because a worse one was fixed was never shown, so it counts
 * as new too.
 */
export function stripVisible(rows: readonly string[], total: number, dismissed: Dismissal | null): boolean {
  if (total <= 0 && rows.length === 0) return false;
  if (dismissed === null) return true;
  if (total > dismissed.total) return true;
  const seen = new Set(dismissed.ids);
  return rows.some((id) => !seen.has(id));
}
