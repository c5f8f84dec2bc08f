import { z } from "zod";
import { fenceFields, metadataSchema, nameSchema, reasonSchema, resultSchema } from "../../schemas.ts";
import { taskProcedure } from "../../trpc.ts";
import { result } from "./shared.ts";

// The review lane (Hermes B, kernel review.ts). `requestReview` and `requestChanges` are worker
// calls (a run token may make them on its own task, fenced on its run); `reopenReview` is a
// person's. Approval is `tasks.complete` of a card in review.

/** The implementer hands the task to a reviewer profile (status `review`, the reviewer assigned). */
export const requestReviewProcedure = taskProcedure
  .input(
    z.object({
      ...fenceFields,
      summary: resultSchema.nullish(),
      metadata: metadataSchema.nullish(),
      reviewer: nameSchema.nullish(),
      force: z.boolean().optional(),
    }),
  )
  .mutation(async ({ ctx, input }) => {
    const out = await ctx.board.requestReview(input.id, {
      summary: input.summary,
      metadata: input.metadata,
      reviewer: input.reviewer,
      force: input.force,
      expected_run_id: input.expected_run_id,
      claim_lock: input.claim_lock,
    });
    // A forced hand-off by a person released a live worker: stop it.
    ctx.terminate(out.terminate);
    return { ...(await result(ctx.board, input.id)), run_id: out.run_id };
  });

/** The reviewer run sends the task back to its implementer with a reason (also kept as a comment by `comment_author`). */
export const requestChangesProcedure = taskProcedure
  .input(z.object({ ...fenceFields, reason: reasonSchema, comment_author: nameSchema.nullish() }))
  .mutation(async ({ ctx, input }) => {
    const out = await ctx.board.requestChanges(input.id, {
      reason: input.reason,
      comment_author: input.comment_author,
      expected_run_id: input.expected_run_id,
      claim_lock: input.claim_lock,
    });
    ctx.terminate(out.terminate);
    return { ...(await result(ctx.board, input.id)), run_id: out.run_id };
  });

/** A person takes a card out of review (ready/todo, the implementer restored); a reason with an author becomes a comment. */
export const reopenReviewProcedure = taskProcedure
  .input(z.object({ reason: reasonSchema.nullish(), comment_author: nameSchema.nullish() }))
  .mutation(async ({ ctx, input }) => {
    await ctx.board.reopenReview(input.id, { reason: input.reason, comment_author: input.comment_author });
    return await result(ctx.board, input.id);
  });
