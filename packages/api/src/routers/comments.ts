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

  list: taskIdProcedure.query(async ({ ctx }) => ({ comments: await ctx.board.listComments(ctx.task.id) })),
});
