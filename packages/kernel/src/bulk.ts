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
async function step<T>(prefix: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
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
 * Rows run one after another, in the order given.
 */
export async function bulkUpdate(
  board: ScopedBoard,
  ids: readonly string[],
  change: BulkChange,
): Promise<{ results: BulkRow[]; terminate: Termination[] }> {
  const terminate: Termination[] = [];
  const results: BulkRow[] = [];
  for (const id of ids) {
    const row = await bulkRow(board, id, change);
    results.push(row.result);
    for (const stop of row.stops) if (stop) terminate.push(stop);
  }
  return { results, terminate };
}

async function bulkRow(
  board: ScopedBoard,
  id: string,
  change: BulkChange,
): Promise<{ result: BulkRow; stops: (Termination | null | undefined)[] }> {
  const refused = (result: BulkRow) => ({ result, stops: [] });
  try {
    const stops = await board.atomically(async () => {
      // Read inside the row's transaction: the reassignment below is decided on it.
      const task = await board.getTask(id);
      if (!task) throw new RowRefused("not found");
      if (change.archive) return [await step("archive refused: ", async () => (await board.archiveTask(id)).terminate)];
      const released: (Termination | null | undefined)[] = [];
      const assignee = change.assignee;
      if (assignee !== undefined && canonicalAssignee(assignee) !== task.assignee) {
        const profile = assignee.trim() === "" ? null : assignee;
        const r = await step(
          "assign refused: ",
          async () => await board.reassignTask(id, profile, { reclaimFirst: change.reclaim_first }),
        );
        if (!r.ok)
          throw new RowRefused("assign refused: still running (pass reclaim_first to release the claim first)");
        released.push(r.terminate);
      }
      const status = change.status;
      if (status !== undefined) {
        const moved = await step(
          `transition to '${status}' refused: `,
          async () =>
            await board.moveTask(id, {
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
      if (priority !== undefined) await step("", async () => await board.updateTask(id, { priority }));
      return released;
    });
    return { result: { id, ok: true }, stops };
  } catch (err) {
    if (err instanceof RowRefused)
      return refused(
        err.unexpected === undefined
          ? { id, ok: false, error: err.message }
          : { id, ok: false, error: err.message, unexpected: err.unexpected },
      );
    if (err instanceof KernelError) return refused({ id, ok: false, error: err.message });
    return refused({ id, ok: false, error: "internal error", unexpected: err });
  }
}
