import { bulkUpdate } from "@kanban/kernel";
import { z } from "zod";
import { idListSchema, metadataSchema, nameSchema, reasonSchema, resultSchema } from "../../schemas.ts";
import { boardProcedure } from "../../trpc.ts";
import { prioritySchema } from "./shared.ts";

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

/**
 * Applies one change to many tasks (the kernel's bulkUpdate). Each row is one transaction: a row
 * refused at any step (say its status change, after its reassignment went through) keeps none of
 * its changes, and its worker is stopped only when the row committed. Rows succeed or fail
 * independently; another tenant's task is "not found".
 */
export const bulkProcedure = boardProcedure.input(bulkInput).mutation(async ({ ctx, input }) => {
  const { board: _slug, ids, ...change } = input;
  const out = await bulkUpdate(ctx.board, ids, change);
  for (const stop of out.terminate) ctx.terminate(stop);
  const results = out.results.map(({ unexpected, ...row }) => {
    // A bug, not a refusal: the row says "internal error", the log keeps what happened.
    if (unexpected !== undefined)
      ctx.logger.error("bulk update failed unexpectedly", {
        error: (unexpected as Error).message,
        stack: (unexpected as Error).stack,
      });
    return row;
  });
  return { results };
});
