import type { SqlContext } from "./session.ts";
import { fromStatesSql } from "./tasks.ts";

// The reads behind re-gating (graph.ts's recomputeReady): which cards may be promoted, and whether a
// blocked card's block is a person's (sticky). The edges themselves are in links.ts.

/** A card `recomputeReady` may promote, with what its breaker check needs. */
export interface PromotionCandidate {
  id: string;
  status: string;
  consecutive_failures: number | null;
  max_retries: number | null;
}

/** Whether the newest of the task's `blocked`/`unblocked` events is a `blocked`: an explicit, sticky block. */
export async function hasStickyBlock(ctx: SqlContext, id: string): Promise<boolean> {
  const row = (await ctx.get(
    "SELECT kind FROM task_events WHERE task_id = ? AND kind IN ('blocked', 'unblocked') ORDER BY id DESC LIMIT 1",
    id,
  )) as { kind: string } | undefined;
  return row?.kind === "blocked";
}

/**
 * Event kinds that annotate a task without moving it between columns. A `todo` card's newest event
 * of any other kind is what put it there (see PARKED_IN_TODO).
 */
const ANNOTATION_KINDS = [
  "commented",
  "edited",
  "assigned",
  "reprioritized",
  "priority",
  "linked",
  "unlinked",
  "heartbeat",
  "spawned",
  "model_override_set",
  "reasoning_effort_set",
  "attached",
  "attachment_removed",
  "suspected_hallucinated_references",
  "completion_blocked_hallucination",
  "protocol_violation",
  "respawn_guarded",
];

/**
 * Whether a person parked the `todo` task `t`: the last thing that moved it was a direct status write
 * to `todo` (a drag to the Todo column, a bulk move, `tasks.patch`). A parked card waits there until
 * someone moves it again, even with every parent done; dependency waits (created with open parents,
 * demoted by a link or a claim's parent check, unblocked before its parents finished) and cards a
 * script set to todo with raw SQL (no event) are promoted as Hermes does. An automatic status write
 * (Hermes' `ancestor_reopened` invalidation carries a `reason`) is not a person's choice.
 *
 * In SQL, so that a board of parked cards costs the tick one query, not one per card. The CASE reads
 * the payload only once `json_valid` accepts it: a malformed or absurdly deep payload (which
 * `json_extract` would raise an error on) simply does not park.
 */
const PARKED_IN_TODO = `t.status = 'todo' AND COALESCE((
    SELECT CASE WHEN e.kind = 'status' AND json_valid(e.payload)
      THEN CASE WHEN json_extract(e.payload, '$.status') IS 'todo' AND json_type(e.payload, '$.reason') IS NULL
        THEN 1 ELSE 0 END
      ELSE 0 END
    FROM task_events e
    WHERE e.task_id = t.id AND e.kind NOT IN (${ANNOTATION_KINDS.map((k) => `'${k}'`).join(", ")})
    ORDER BY e.id DESC LIMIT 1), 0) = 1`;

// Parents are checked in SQL (one anti-join), so the caller's loop only sees tasks that may move.
const UNFINISHED_PARENT = `EXISTS (SELECT 1 FROM task_links l JOIN tasks p ON p.id = l.parent_id
        WHERE l.child_id = t.id AND p.status NOT IN ('done', 'archived'))`;

let candidatesSql: { all: string; scoped: string } | null = null;

/** Built on first use: promote's from-states come from the transitions table. */
function candidateStatements(): { all: string; scoped: string } {
  if (candidatesSql === null) {
    const all = `SELECT t.id, t.status, t.consecutive_failures, t.max_retries FROM tasks t
       WHERE t.status ${fromStatesSql("promote")} AND NOT ${UNFINISHED_PARENT} AND NOT (${PARKED_IN_TODO})`;
    candidatesSql = { all, scoped: `${all} AND t.id IN (SELECT value FROM json_each(?))` };
  }
  return candidatesSql;
}

/**
 * Cards in one of promote's from-states whose parents are all done or archived and that no person
 * parked in todo: the whole board, or only the tasks in `scope`.
 */
export async function promotionCandidates(ctx: SqlContext, scope?: string[]): Promise<PromotionCandidate[]> {
  const sql = candidateStatements();
  return (
    scope === undefined ? await ctx.all(sql.all) : await ctx.all(sql.scoped, JSON.stringify(scope))
  ) as PromotionCandidate[];
}
