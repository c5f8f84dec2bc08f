import { type ClosedRunFact, closedRunFact } from "../../respawn-guard.ts";
import { parseJsonObject } from "../../rows.ts";
import type { SqlContext } from "./session.ts";

/**
 * Each task's newest ended run as the respawn guard reads it (outcome, end, and what its metadata
 * says: an infrastructure spawn refusal, a transient streak, a respawn jitter; tasks with none are absent), in one query: what the guard's
 * cooldown and expiry rules read for a whole board (motion/explain.ts).
 */
export async function newestClosedRunFacts(
  ctx: SqlContext,
  ids: readonly string[],
): Promise<Map<string, ClosedRunFact>> {
  if (ids.length === 0) return new Map();
  const rows = (await ctx.all(
    `SELECT task_id, outcome, ended_at, metadata FROM (
       SELECT task_id, outcome, ended_at, metadata,
         ROW_NUMBER() OVER (PARTITION BY task_id ORDER BY started_at DESC, id DESC) AS rn
       FROM task_runs WHERE ended_at IS NOT NULL AND task_id IN (SELECT value FROM json_each(?))) AS latest WHERE rn = 1`,
    JSON.stringify(ids),
  )) as { task_id: string; outcome: string | null; ended_at: number; metadata: unknown }[];
  return new Map(
    rows.map((r) => [
      r.task_id,
      // The same reading as the guard's single-task one (respawn-guard.ts closedRunFact), on the raw column.
      closedRunFact({ outcome: r.outcome, ended_at: Number(r.ended_at), metadata: parseJsonObject(r.metadata) }),
    ]),
  );
}
