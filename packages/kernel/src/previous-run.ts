import type { BoardContext } from "./context.ts";
import { previousClosedRun } from "./store/sqlite/run-reads.ts";

/**
 * What a retry is told about the attempt before it (issue 17: "retries keep context"), so an agent
 * can pick up where the last one stopped instead of starting cold.
 */
export interface PreviousRun {
  run_id: number;
  /** completed, blocked, crashed, timed_out, spawn_failed, reclaimed, … (null on a run ended without one). */
  outcome: string | null;
  summary: string | null;
  error: string | null;
  /**
   * The agent session the run worked in, when the run recorded one. Runs have no column for it: a
   * worker records it in the run's metadata, as `session_id` (`kanban complete --metadata
   * '{"session_id": "…"}'`) or `worker_session_id` (the key Hermes' kanban_complete stamps). Only
   * metadata a worker wrote counts, so a run closed by the kernel (a crash, a timeout) has none.
   */
  session_id: string | null;
}

function sessionOf(metadata: Record<string, unknown> | null): string | null {
  for (const key of ["session_id", "worker_session_id"]) {
    const value = metadata?.[key];
    if (typeof value === "string" && value.trim() !== "") return value.trim();
  }
  return null;
}

/** The task's newest ended run other than `exceptRun` (the one being started), or null on a first attempt. */
export async function previousRun(
  ctx: BoardContext,
  taskId: string,
  exceptRun: number | null,
): Promise<PreviousRun | null> {
  const run = await previousClosedRun(ctx, taskId, exceptRun);
  if (run === null) return null;
  return {
    run_id: run.id,
    outcome: run.outcome,
    summary: run.summary,
    error: run.error,
    session_id: sessionOf(run.metadata),
  };
}
