import type { SqlContext } from "../port.ts";

// The reads behind late reports (late-report.ts): whether one was already recorded, and who claimed a run.

/** Whether the task already has a `late_report` of `verb` for `runId` (a re-send records nothing new). */
export async function hasLateReport(ctx: SqlContext, taskId: string, runId: number, verb: string): Promise<boolean> {
  const row = await ctx.get(
    "SELECT id FROM task_events WHERE task_id = ? AND kind = 'late_report' AND run_id = ? AND json_extract(payload, '$.verb') = ?",
    taskId,
    runId,
    verb,
  );
  return row !== undefined;
}

/** The claim lock a run was claimed with (its `claimed` event): an ended run's own lock is cleared. */
export async function claimedLockOf(ctx: SqlContext, taskId: string, runId: number): Promise<string | null> {
  const row = (await ctx.get(
    "SELECT json_extract(payload, '$.lock') AS lock FROM task_events WHERE task_id = ? AND run_id = ? AND kind = 'claimed' ORDER BY id LIMIT 1",
    taskId,
    runId,
  )) as { lock: string | null } | undefined;
  return row?.lock ?? null;
}
