import { invalid } from "@kanban/kernel";
import { z } from "zod";
import { fenceFields, idSchema, LIMITS, nameSchema, withBoard } from "../schemas.ts";
import { scopedTask } from "../scope.ts";
import { publicProcedure, router } from "../trpc.ts";

export const commentsRouter = router({
  /** Adds a comment (author defaults to "dashboard"); a worker may pass its fence. */
  add: publicProcedure
    .input(
      z.object({
        ...withBoard,
        ...fenceFields,
        task_id: idSchema,
        body: z.string().max(LIMITS.commentChars),
        author: nameSchema.default("dashboard"),
      }),
    )
    .mutation(({ ctx, input }) => {
      if (input.body.trim() === "") throw invalid("body is required");
      const board = ctx.board(input.board);
      scopedTask(ctx, board, input.task_id);
      const id = board.addComment(input.task_id, input.author, input.body, {
        expected_run_id: input.expected_run_id,
        claim_lock: input.claim_lock,
      });
      return { ok: true as const, comment_id: id };
    }),

  list: publicProcedure.input(z.object({ ...withBoard, task_id: idSchema })).query(({ ctx, input }) => {
    const board = ctx.board(input.board);
    scopedTask(ctx, board, input.task_id);
    return { comments: board.listComments(input.task_id) };
  }),
});
