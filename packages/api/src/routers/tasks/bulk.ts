import { canonicalAssignee, KernelError, type Termination } from "@kanban/kernel";
import { z } from "zod";
import type { KanbanContext } from "../../context.ts";
import { idListSchema, metadataSchema, nameSchema, reasonSchema, resultSchema } from "../../schemas.ts";
import { boardProcedure } from "../../trpc.ts";
import { failureLimit, prioritySchema } from "./shared.ts";

const bulkInput = z.object({
  ids: idListSchema.min(1, "ids must not be empty"),
  status: z.string().max(32).optional(),
  /** "" unassigns. */
  assignee: nameSchema.optional(),
  priority: prioritySchema.optional(),
  archive: z.boolean().default(false),
  result: resultSchema.nullable().optional(),
  summary: resultSchema.nullable().optional(),
  metadata: metadataSchema.nullable().optional(),
  block_reason: reasonSchema.nullable().optional(),
  reclaim_first: z.boolean().default(false),
});

/** Thrown inside a bulk row's transaction to undo the row; its message is what the row reports. */
class RowRefused extends Error {}

/** The message a bulk row reports: the kernel's text, or a generic one for a bug (logged). */
function bulkError(ctx: Pick<KanbanContext, "logger">, err: unknown): string {
  if (err instanceof KernelError) return err.message;
  ctx.logger.error("bulk update failed unexpectedly", { error: (err as Error).message, stack: (err as Error).stack });
  return "internal error";
}

/**
 * Applies one change to many tasks. Each row is one transaction: a row refused at any step
 * (say its status change, after its reassignment went through) keeps none of its changes, and
 * its worker is stopped only when the row committed. Rows succeed or fail independently.
 */
export const bulkProcedure = boardProcedure.input(bulkInput).mutation(({ ctx, input }) => {
  const board = ctx.board;
  const limit = failureLimit(ctx);
  const results = input.ids.map((id): { id: string; ok: boolean; error?: string } => {
    // Another tenant's task is "not found", like an unknown id (the scoped board answers null for both).
    const task = board.getTask(id);
    if (!task) return { id, ok: false, error: "not found" };
    /** One step of the row; a refusal rolls the whole row back with `prefix` + the reason. */
    const step = <T>(prefix: string, fn: () => T): T => {
      try {
        return fn();
      } catch (err) {
        throw new RowRefused(`${prefix}${bulkError(ctx, err)}`);
      }
    };
    let stops: (Termination | null | undefined)[];
    try {
      stops = board.atomically(() => {
        if (input.archive) return [step("archive refused: ", () => board.archiveTask(id, limit).terminate)];
        const released: (Termination | null | undefined)[] = [];
        if (input.assignee !== undefined && canonicalAssignee(input.assignee) !== task.assignee) {
          const profile = input.assignee.trim() === "" ? null : input.assignee;
          const r = step("assign refused: ", () =>
            board.reassignTask(id, profile, { reclaimFirst: input.reclaim_first }),
          );
          if (!r.ok)
            throw new RowRefused("assign refused: still running (pass reclaim_first to release the claim first)");
          released.push(r.terminate);
        }
        if (input.status !== undefined) {
          const status = input.status;
          const moved = step(`transition to '${status}' refused: `, () =>
            board.moveTask(id, {
              status,
              result: input.result,
              summary: input.summary,
              metadata: input.metadata,
              reason: input.block_reason,
              failureLimit: limit,
            }),
          );
          released.push(moved.terminate);
        }
        const priority = input.priority;
        if (priority !== undefined) step("", () => board.updateTask(id, { priority }));
        return released;
      });
    } catch (err) {
      if (err instanceof RowRefused) return { id, ok: false, error: err.message };
      return { id, ok: false, error: bulkError(ctx, err) };
    }
    for (const stop of stops) ctx.terminate(stop);
    return { id, ok: true };
  });
  return { results };
});
