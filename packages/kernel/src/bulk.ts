import { canonicalAssignee } from "./create.ts";
import { KernelError } from "./errors.ts";
import type { ScopedBoard } from "./scoped-board.ts";
import type { Termination } from "./termination.ts";

/** One change applied to many tasks (the board's multi-select, `kanban bulk`). */
export interface BulkChange {
  /** Through the verb that owns the status, as a drag-drop would (`moveTask`). */
  status?: string;
  /** "" unassigns. */
  assignee?: string;
  priority?: number;
  /** Archive instead of everything else. */
  archive?: boolean;
  /** With status=done: the completion's handoff. */
  result?: string | null;
  summary?: string | null;
  metadata?: Record<string, unknown> | null;
  /** With status=blocked or scheduled. */
  block_reason?: string | null;
  /** Release a running task's claim before reassigning it. */
  reclaim_first?: boolean;
}

export interface BulkRow {
  id: string;
  ok: boolean;
  /** Why the row changed nothing: the kernel's message after the step's prefix, or "not found". */
  error?: string;
  /** A refusal that was not a KernelError (a bug): the caller logs it; `error` then says "internal error". */
  unexpected?: unknown;
}

/** Thrown inside a row's transaction to undo the row; carries what the row reports. */
class RowRefused extends Error {
  constructor(
    message: string,
    readonly unexpected?: unknown,
  ) {
    super(message);
  }
}

/** One step of a row: a refusal undoes the whole row and is reported as `prefix` + the reason. */
function step<T>(prefix: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof KernelError) throw new RowRefused(`${prefix}${err.message}`);
    throw new RowRefused(`${prefix}internal error`, err);
  }
}

/**
 * Applies one change to many tasks of the scope. Each row is one transaction: a row refused at
 * any step (say its status change, after its reassignment went through) keeps none of its changes,
 * and reports why; rows succeed or fail independently. A task outside the scope is "not found",
 * like an unknown id. `terminate` lists the workers the committed rows released, to stop after.
 */
export function bulkUpdate(
  board: ScopedBoard,
  ids: readonly string[],
  change: BulkChange,
): { results: BulkRow[]; terminate: Termination[] } {
  const terminate: Termination[] = [];
  const results = ids.map((id): BulkRow => {
    const task = board.getTask(id);
    if (!task) return { id, ok: false, error: "not found" };
    let stops: (Termination | null | undefined)[];
    try {
      stops = board.atomically(() => {
        if (change.archive) return [step("archive refused: ", () => board.archiveTask(id).terminate)];
        const released: (Termination | null | undefined)[] = [];
        const assignee = change.assignee;
        if (assignee !== undefined && canonicalAssignee(assignee) !== task.assignee) {
          const profile = assignee.trim() === "" ? null : assignee;
          const r = step("assign refused: ", () =>
            board.reassignTask(id, profile, { reclaimFirst: change.reclaim_first }),
          );
          if (!r.ok)
            throw new RowRefused("assign refused: still running (pass reclaim_first to release the claim first)");
          released.push(r.terminate);
        }
        const status = change.status;
        if (status !== undefined) {
          const moved = step(`transition to '${status}' refused: `, () =>
            board.moveTask(id, {
              status,
              result: change.result,
              summary: change.summary,
              metadata: change.metadata,
              reason: change.block_reason,
            }),
          );
          released.push(moved.terminate);
        }
        const priority = change.priority;
        if (priority !== undefined) step("", () => board.updateTask(id, { priority }));
        return released;
      });
    } catch (err) {
      if (err instanceof RowRefused)
        return err.unexpected === undefined
          ? { id, ok: false, error: err.message }
          : { id, ok: false, error: err.message, unexpected: err.unexpected };
      if (err instanceof KernelError) return { id, ok: false, error: err.message };
      return { id, ok: false, error: "internal error", unexpected: err };
    }
    for (const stop of stops) if (stop) terminate.push(stop);
    return { id, ok: true };
  });
  return { results, terminate };
}
