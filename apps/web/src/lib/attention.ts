import { SEVERITY_RANK } from "./format.ts";
import type { FlaggedTask, Severity } from "./types.ts";

export interface AttentionItem {
  task_id: string;
  title: string;
  status: string;
  assignee: string | null;
  severity: Severity;
  /** The worst diagnostic's title, shown as the row's reason. */
  reason: string;
  count: number;
  latest_at: number;
}

/** One row per flagged task: its worst diagnostic, worst tasks first, then the most recent. */
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
 * Whether a dismissed strip comes back: only when a task is flagged that was not flagged when the
 * person dismissed it (a new problem deserves to be seen; the old ones were acknowledged).
 */
export function stripVisible(current: readonly string[], dismissed: readonly string[] | null): boolean {
  if (current.length === 0) return false;
  if (dismissed === null) return true;
  const seen = new Set(dismissed);
  return current.some((id) => !seen.has(id));
}
