import type { BoardContext } from "./context.ts";
import { boardDiagnostics, computeTaskDiagnostics, summariseDiagnostics } from "./diagnostics.ts";
import type { Task, TaskWarnings } from "./types.ts";

/**
 * What the diagnostics are judged against. Both come from the host (config.json's `failure_limit`,
 * the profiles a worker can be spawned for), so the board that serves a read supplies them.
 */
export interface DiagnosticsPolicy {
  failureLimit: number;
  /** Null: unknown, and a ready task is then never flagged for its assignee alone. */
  knownProfiles: readonly string[] | null;
}

/**
 * The one meaning of `warnings`: the summary of a task's diagnostics (count, kinds by diagnostic
 * kind, newest, worst), the badge a board card shows. Tasks without a diagnostic are absent.
 * `ids` undefined = the whole board; otherwise the engine runs once, confined to those ids, so a
 * list of many tasks costs one run whose queries follow the ids, never one run per task.
 */
export async function taskWarnings(
  ctx: BoardContext,
  ids: readonly string[] | undefined,
  policy: DiagnosticsPolicy,
  onRun?: () => void,
): Promise<Map<string, TaskWarnings>> {
  const out = new Map<string, TaskWarnings>();
  if (ids !== undefined && ids.length === 0) return out;
  const found = await boardDiagnostics(ctx, {
    taskIds: ids,
    failureLimit: policy.failureLimit,
    knownProfiles: policy.knownProfiles,
    onRun,
  });
  for (const d of found) {
    const summary = summariseDiagnostics(d.diagnostics);
    if (summary) out.set(d.task_id, summary);
  }
  return out;
}

/**
 * `warnings` of a task just inserted, judged from its row alone. It has no runs, no events but its
 * creation and no age yet, so reading its history back (a candidate query per create, measured at a
 * third of `tasks.create`'s CPU) would find nothing the row does not already say. Same rules, same
 * summary as {@link taskWarnings}; `warnings.test.ts` pins that the two agree.
 */
export function newTaskWarnings(task: Task, policy: DiagnosticsPolicy, now: number): TaskWarnings | null {
  const found = computeTaskDiagnostics(task, [], [], {
    now,
    failureLimit: policy.failureLimit,
    knownProfiles: policy.knownProfiles,
  });
  return summariseDiagnostics(found);
}
