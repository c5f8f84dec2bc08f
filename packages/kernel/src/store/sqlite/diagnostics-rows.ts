import { eventFromRow, runFromRow } from "../../rows.ts";
import type { Task, TaskEvent, TaskRun } from "../../types.ts";
import type { SqlContext } from "./session.ts";

// The rows the diagnostics engine judges (diagnostics.ts's boardDiagnostics): the tasks some rule
// could flag, then their closed runs, their relevant events and their newest comment. The rules
// themselves stay in diagnostics.ts; these statements must keep in step with them.

type Row = Record<string, unknown>;

/** Which tasks may need a diagnostic: the thresholds the rules apply, and where to look. */
export interface CandidateQuery {
  failureLimit: number;
  /** A ready task created at or before this time may be stranded. */
  strandedBefore: number;
  /** Profiles that exist; a ready task assigned to any other name is flagged at once. null = not known. */
  knownProfiles: readonly string[] | null;
  /** Judge only these tasks (row by row), or null for the whole board (each condition by its index). */
  taskIds: readonly string[] | null;
  /**
   * The event kinds a completion's warning is stored as. Written into the SQL as literals: that is
   * what lets SQLite use the partial index `idx_events_warnings` (migrations 0001/0002) built on them.
   */
  warningKinds: readonly string[];
}

/**
 * Only tasks some rule could flag: every rule needs one of these conditions, so the others are
 * never loaded. Each branch reads one index (a ready task can only be stranded once it is older than
 * the threshold, or at once when its assignee is no known profile; failing tasks and warning events
 * have partial indexes of migrations 0001/0002), so the set is found without scanning the board.
 */
function boardCandidatesSql(kinds: string): string {
  return `SELECT * FROM tasks t
  WHERE t.status != 'archived' AND t.rowid IN (
    SELECT rowid FROM tasks INDEXED BY idx_tasks_ready_priority
      WHERE status = 'ready' AND claim_lock IS NULL AND created_at <= :stranded_before
    UNION SELECT rowid FROM tasks INDEXED BY idx_tasks_ready_priority
      WHERE :known IS NOT NULL AND status = 'ready' AND claim_lock IS NULL AND assignee IS NOT NULL
        AND assignee NOT IN (SELECT value FROM json_each(:known))
    UNION SELECT rowid FROM tasks WHERE status = 'blocked'
    UNION SELECT rowid FROM tasks INDEXED BY idx_tasks_failing
      WHERE consecutive_failures > 0 AND consecutive_failures >= :failure_limit
    UNION SELECT x.rowid FROM task_events e INDEXED BY idx_events_warnings JOIN tasks x ON x.id = e.task_id
      WHERE e.kind IN (${kinds})
    UNION SELECT x.rowid FROM task_runs r JOIN tasks x ON x.id = r.task_id WHERE r.status = 'crashed'
  )`;
}

/**
 * The same conditions judged per row, for a given id set: a list of 200 tasks or one task's badge
 * must not pay for collecting every candidate of the board first. Keep in step with the query above.
 */
function candidatesByIdSql(kinds: string): string {
  return `SELECT * FROM tasks t
  WHERE t.id IN (SELECT value FROM json_each(:task_ids)) AND t.status != 'archived' AND (
    (t.status = 'ready' AND t.claim_lock IS NULL AND (t.created_at <= :stranded_before
      OR (:known IS NOT NULL AND t.assignee IS NOT NULL AND t.assignee NOT IN (SELECT value FROM json_each(:known)))))
    OR t.status = 'blocked'
    OR (t.consecutive_failures > 0 AND t.consecutive_failures >= :failure_limit)
    OR EXISTS (SELECT 1 FROM task_events e INDEXED BY idx_events_warnings
      WHERE e.task_id = t.id AND e.kind IN (${kinds}))
    OR EXISTS (SELECT 1 FROM task_runs r WHERE r.task_id = t.id AND r.status = 'crashed'))`;
}

/** Both candidate statements per set of warning kinds (in practice one set), built once. */
const CANDIDATE_SQL = new Map<string, { board: string; byId: string }>();

function candidateSql(warningKinds: readonly string[]): { board: string; byId: string } {
  const key = warningKinds.join("\n");
  let sql = CANDIDATE_SQL.get(key);
  if (!sql) {
    // Kinds are the engine's own constants, never input; quotes are doubled all the same.
    const kinds = warningKinds.map((k) => `'${k.replace(/'/g, "''")}'`).join(", ");
    sql = { board: boardCandidatesSql(kinds), byId: candidatesByIdSql(kinds) };
    CANDIDATE_SQL.set(key, sql);
  }
  return sql;
}

/** The non-archived tasks of the board (or of `taskIds`) that meet at least one rule's precondition. */
export async function diagnosticCandidates(ctx: SqlContext, q: CandidateQuery): Promise<Task[]> {
  const sql = candidateSql(q.warningKinds);
  const params = {
    failure_limit: q.failureLimit,
    stranded_before: q.strandedBefore,
    known: q.knownProfiles === null ? null : JSON.stringify(q.knownProfiles),
  };
  return q.taskIds === null
    ? await ctx.tasks(sql.board, params)
    : await ctx.tasks(sql.byId, { ...params, task_ids: JSON.stringify(q.taskIds) });
}

/** Summaries and metadata can be megabytes and no rule reads them. */
const CANDIDATE_RUNS_SQL = `SELECT id, task_id, profile, status, outcome, error, started_at, ended_at FROM task_runs
  WHERE task_id IN (SELECT value FROM json_each(?)) AND ended_at IS NOT NULL ORDER BY id`;

const CANDIDATE_EVENTS_SQL = `SELECT id, task_id, run_id, kind, payload, created_at FROM task_events
  WHERE task_id IN (SELECT value FROM json_each(?)) AND kind IN (SELECT value FROM json_each(?)) ORDER BY id`;

/** The rules only ask whether anyone commented after a time, so the newest comment suffices. */
const NEWEST_COMMENTS_SQL = `SELECT task_id, MAX(created_at) AS created_at FROM task_comments
  WHERE task_id IN (SELECT value FROM json_each(?)) GROUP BY task_id`;

/** What the rules read of the candidates, in three queries whatever their number. */
export interface CandidateHistory {
  /** Ended runs, by id; without summary and metadata. */
  runs: TaskRun[];
  /** Events of `eventKinds`, by id. */
  events: TaskEvent[];
  /** Each task's newest comment time (tasks without comments are absent). */
  newestComments: { task_id: string; created_at: number }[];
}

export async function candidateHistory(
  ctx: SqlContext,
  taskIds: readonly string[],
  eventKinds: readonly string[],
): Promise<CandidateHistory> {
  const ids = JSON.stringify(taskIds);
  return {
    runs: ((await ctx.all(CANDIDATE_RUNS_SQL, ids)) as Row[]).map(runFromRow),
    events: ((await ctx.all(CANDIDATE_EVENTS_SQL, ids, JSON.stringify(eventKinds))) as Row[]).map(eventFromRow),
    newestComments: (await ctx.all(NEWEST_COMMENTS_SQL, ids)) as { task_id: string; created_at: number }[],
  };
}
