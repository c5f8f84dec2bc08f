import { z } from "zod";
import { nameSchema, reasonSchema } from "../../schemas.ts";
import { taskProcedure } from "../../trpc.ts";
import { result } from "./shared.ts";

/** Blocked or scheduled → ready (todo while a parent is unfinished); `comment_author` also records an `UNBLOCK:` comment. */
export const unblockProcedure = taskProcedure
  .input(z.object({ reason: reasonSchema.nullish(), comment_author: nameSchema.nullish() }))
  .mutation(({ ctx, input }) => {
    const board = ctx.board;
    board.unblockTask(input.id);
    if (input.comment_author && input.reason?.trim())
      board.addComment(input.id, input.comment_author, `UNBLOCK: ${input.reason.trim()}`);
    return result(board, input.id);
  });
