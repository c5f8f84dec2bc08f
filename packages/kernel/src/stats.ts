import type { BoardContext } from "./context.ts";
import { canonicalAssignee } from "./create.ts";
import { invalid } from "./errors.ts";
import {
  assigneeStatusCounts,
  deleteFinishedTaskEvents,
  liveStatusCounts,
  oldestReadyCreatedAt,
} from "./store/sqlite/stats.ts";
import type { Task } from "./types.ts";

export interface BoardStats {
  /** Non-archived tasks per status; statuses with no task are absent. */
  by_status: Record<string, number>;
  /** Non-archived, assigned tasks per assignee and status. */
  by_assignee: Record<string, Record<string, number>>;
  /** Age of the oldest ready task, measured from its creation; null when nothing is ready. */
  oldest_ready_age_seconds: number | null;
  now: number;
}

export interface TaskAge {
  created_age_seconds: number;
  started_age_seconds: number | null;
  time_to_complete_seconds: number | null;
}

export interface KnownAssignee {
  name: string;
  /** Whether a profile of that name exists on this host. */
  on_disk: boolean;
  /** Non-archived tasks per status. */
  counts: Record<string, number>;
}

export const DEFAULT_EVENT_RETENTION_SECONDS = 30 * 86_400;

/** Event kinds gc keeps forever: a decomposed task's children are found through this event. */
const GC_RETAINED_EVENT_KINDS = ["decomposed"];

async function countsByAssignee(ctx: BoardContext): Promise<Record<string, Record<string, number>>> {
  const rows = await assigneeStatusCounts(ctx);
  const out: Record<string, Record<string, number>> = {};
  for (const r of rows) {
    const counts = out[r.assignee] ?? {};
    counts[r.status] = r.n;
    out[r.assignee] = counts;
  }
  return out;
}

/** Task counts by status and by assignee, and how long the oldest ready task has waited. */
export async function boardStats(ctx: BoardContext): Promise<BoardStats> {
  const now = ctx.now();
  const byStatus: Record<string, number> = {};
  for (const r of await liveStatusCounts(ctx)) byStatus[r.status] = r.n;
  const oldest = await oldestReadyCreatedAt(ctx);
  return {
    by_status: byStatus,
    by_assignee: await countsByAssignee(ctx),
    oldest_ready_age_seconds: oldest === null ? null : now - oldest,
    now,
  };
}

/** Ages of a task at `now`; time to complete runs from its first claim to its completion. */
export function taskAge(task: Pick<Task, "created_at" | "started_at" | "completed_at">, now: number): TaskAge {
  return {
    created_age_seconds: now - task.created_at,
    started_age_seconds: task.started_at === null ? null : now - task.started_at,
    time_to_complete_seconds:
      task.started_at === null || task.completed_at === null ? null : task.completed_at - task.started_at,
  };
}

/**
 * Deletes events older than `olderThanSeconds` of tasks that are done or archived, and returns how
 * many went. Live tasks keep their whole history: the diagnostics and the retry logic read it.
 */
export async function gcEvents(
  ctx: BoardContext,
  olderThanSeconds: number = DEFAULT_EVENT_RETENTION_SECONDS,
): Promise<number> {
  if (!Number.isFinite(olderThanSeconds) || olderThanSeconds < 0) {
    throw invalid("older_than_seconds must be a non-negative number of seconds");
  }
  return await ctx.tx(async () => {
    const cutoff = ctx.now() - olderThanSeconds;
    return await deleteFinishedTaskEvents(ctx, cutoff, GC_RETAINED_EVENT_KINDS);
  });
}

/**
 * Every name a task could be assigned to: the profiles found on disk and the assignees the board
 * already uses, with each one's non-archived task counts, sorted by name. Names are compared the
 * way assignees are stored (trimmed, lowercase), so a profile directory and its tasks meet.
 */
export async function knownAssignees(ctx: BoardContext, profilesOnDisk: string[]): Promise<KnownAssignee[]> {
  const onDisk = new Set(profilesOnDisk.map(canonicalAssignee).filter((n): n is string => n !== null));
  const counts = await countsByAssignee(ctx);
  const names = [...new Set([...onDisk, ...Object.keys(counts)])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return names.map((name) => ({ name, on_disk: onDisk.has(name), counts: counts[name] ?? {} }));
}
