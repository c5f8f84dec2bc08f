import { HALLUCINATION_EVENT_KINDS } from "./constants.ts";
import type { BoardContext } from "./context.ts";
import type { TaskWarnings } from "./types.ts";

const SEVERITY: Record<string, TaskWarnings["highest_severity"]> = {
  completion_blocked_hallucination: "error",
  suspected_hallucinated_references: "warning",
};
const RANK = { warning: 1, error: 2, critical: 3 } as const;

/**
 * Warning badges derived from events, for many tasks in one query. Hallucination events flag a task
 * until a later clean `completed` or `edited` event supersedes them; the audit events themselves stay.
 * `ids` undefined = every task on the board.
 */
export function taskWarnings(ctx: BoardContext, ids?: string[]): Map<string, TaskWarnings> {
  const kinds = HALLUCINATION_EVENT_KINDS.map((k) => `'${k}'`).join(", ");
  const base = `SELECT e.task_id, e.kind, count(*) AS n, max(e.created_at) AS latest FROM task_events e
     WHERE e.kind IN (${kinds})%s
       AND e.id > COALESCE((SELECT max(c.id) FROM task_events c WHERE c.task_id = e.task_id AND c.kind IN ('completed', 'edited')), 0)
     GROUP BY e.task_id, e.kind`;
  // One cached statement per shape: the id list travels as a JSON array, never as SQL text.
  const rows = (
    ids === undefined
      ? ctx.stmt(base.replace("%s", "")).all()
      : ids.length === 0
        ? []
        : ids.length === 1
          ? ctx.stmt(base.replace("%s", " AND e.task_id = ?")).all(ids[0])
          : ctx.stmt(base.replace("%s", " AND e.task_id IN (SELECT value FROM json_each(?))")).all(JSON.stringify(ids))
  ) as { task_id: string; kind: string; n: number; latest: number }[];
  const out = new Map<string, TaskWarnings>();
  for (const r of rows) {
    const sev = SEVERITY[r.kind] ?? "warning";
    const cur = out.get(r.task_id);
    if (!cur) {
      out.set(r.task_id, { count: r.n, kinds: { [r.kind]: r.n }, latest_at: r.latest, highest_severity: sev });
    } else {
      cur.count += r.n;
      cur.kinds[r.kind] = r.n;
      cur.latest_at = Math.max(cur.latest_at, r.latest);
      if (RANK[sev] > RANK[cur.highest_severity]) cur.highest_severity = sev;
    }
  }
  return out;
}
