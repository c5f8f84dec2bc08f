import { invalid } from "@kanban/kernel";
import { z } from "zod";
import { fenceFields, LIMITS, nameSchema } from "../schemas.ts";
import { router, taskIdProcedure } from "../trpc.ts";

export const commentsRouter = router({
  /** Adds a comment (author defaults to "dashboard"); a worker may pass its fence. */
  add: taskIdProcedure
    .input(
      z.object({
        ...fenceFields,
        body: z.string().max(LIMITS.commentChars),
        author: nameSchema.default("dashboard"),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      if (input.body.trim() === "") throw invalid("body is required");
      const id = await ctx.board.addComment(input.task_id, input.author, input.body, {
        expected_run_id: input.expected_run_id,
        claim_lock: input.claim_lock,
      });
      return { ok: true as const, comment_id: id };
    }),

  /**
   * A task's comments, oldest first: all of them, or with `limit` one page, the `limit` just before
   * comment `before` (the newest page without it), with `more` when earlier ones remain.
   */
  list: taskIdProcedure
    .input(
      z
        .object({
          before: z.number().int().min(1).nullish(),
          limit: z.number().int().min(1).max(LIMITS.commentPage).nullish(),
        })
        .prefault({}),
    )
    .query(async ({ ctx, input }) => {
      if (input.limit === undefined || input.limit === null) {
        if (input.before) throw invalid("before needs a limit (one page of comments)");
        return { comments: await ctx.board.listComments(ctx.task.id), more: false };
      }
      return await ctx.board.commentPage(ctx.task.id, { before: input.before ?? null, limit: input.limit });
    }),
});
