import type { BoardContext } from "../../context.ts";
import { canonicalAssignee } from "../../create.ts";
import { type BoardStats, boardStats, type KnownAssignee, knownAssignees } from "../../stats.ts";

// Who is working and on what, for the API's workers/stats/assignees reads (moved from the API's
// queries/workers.ts as they were). `tenant` null = the whole board (the operator).

export interface ActiveWorker {
  run_id: number;
  task_id: string;
  task_title: string;
  task_status: string;
  task_assignee: string | null;
  profile: string | null;
  worker_pid: number | null;
  started_at: number;
  claim_lock: string | null;
  claim_expires: number | null;
  last_heartbeat_at: number | null;
  max_runtime_seconds: number | null;
}

/** Every open run (a worker that holds or held a claim and has not settled), oldest first. */
export async function activeWorkers(
  ctx: BoardContext,
  tenant: string | null,
): Promise<{ workers: ActiveWorker[]; count: number; checked_at: number }> {
  const workers = (await ctx.all(
    `SELECT r.id AS run_id, r.task_id, t.title AS task_title, t.status AS task_status, t.assignee AS task_assignee, r.profile,
         r.worker_pid, r.started_at, r.claim_lock, r.claim_expires, r.last_heartbeat_at, r.max_runtime_seconds
       FROM task_runs r JOIN tasks t ON t.id = r.task_id
       WHERE r.ended_at IS NULL AND (:tenant IS NULL OR t.tenant = :tenant) ORDER BY r.started_at, r.id`,
    { tenant },
  )) as ActiveWorker[];
  return { workers, count: workers.length, checked_at: ctx.now() };
}

/** The board's stats, or the same numbers over one tenant's tasks only. */
export async function statsFor(ctx: BoardContext, tenant: string | null): Promise<BoardStats> {
  if (tenant === null) return await boardStats(ctx);
  const byStatus: Record<string, number> = {};
  for (const r of (await ctx.all(
    "SELECT status, COUNT(*) AS n FROM tasks WHERE status != 'archived' AND tenant = ? GROUP BY status",
    tenant,
  )) as {
    status: string;
    n: number;
  }[]) {
    byStatus[r.status] = r.n;
  }
  const byAssignee = await assigneeCounts(ctx, tenant);
  const oldest = (await ctx.get(
    "SELECT MIN(created_at) AS oldest FROM tasks WHERE status = 'ready' AND tenant = ?",
    tenant,
  )) as { oldest: number | null };
  const now = ctx.now();
  return {
    by_status: byStatus,
    by_assignee: byAssignee,
    oldest_ready_age_seconds: oldest.oldest === null ? null : now - oldest.oldest,
    now,
  };
}

async function assigneeCounts(ctx: BoardContext, tenant: string): Promise<Record<string, Record<string, number>>> {
  const rows = (await ctx.all(
    `SELECT assignee, status, COUNT(*) AS n FROM tasks
       WHERE status != 'archived' AND assignee IS NOT NULL AND assignee != '' AND tenant = ? GROUP BY assignee, status`,
    tenant,
  )) as { assignee: string; status: string; n: number }[];
  const out: Record<string, Record<string, number>> = {};
  for (const r of rows) out[r.assignee] = { ...(out[r.assignee] ?? {}), [r.status]: r.n };
  return out;
}

/** Configured profiles plus the board's assignees; for a tenant, counts cover its tasks only. */
export async function assigneesFor(
  ctx: BoardContext,
  profiles: string[],
  tenant: string | null,
): Promise<KnownAssignee[]> {
  if (tenant === null) return await knownAssignees(ctx, profiles);
  const onDisk = new Set(profiles.map(canonicalAssignee).filter((n): n is string => n !== null));
  const counts = await assigneeCounts(ctx, tenant);
  const names = [...new Set([...onDisk, ...Object.keys(counts)])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return names.map((name) => ({ name, on_disk: onDisk.has(name), counts: counts[name] ?? {} }));
}

/** Task counts per status (archived included), over one tenant's tasks or (null) the whole board. */
export async function statusCounts(ctx: BoardContext, tenant: string | null): Promise<{ status: string; n: number }[]> {
  return (await ctx.all(
    "SELECT status, COUNT(*) AS n FROM tasks WHERE (:tenant IS NULL OR tenant = :tenant) GROUP BY status",
    { tenant },
  )) as { status: string; n: number }[];
}
