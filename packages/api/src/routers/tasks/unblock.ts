import { nameSchema, reasonSchema } from "../../schemas.ts";
import { scopedTask } from "../../scope.ts";
import { publicProcedure } from "../../trpc.ts";
import { idInput, result } from "./shared.ts";

/** Blocked or scheduled → ready (todo while a parent is unfinished); `comment_author` also records an `UNBLOCK:` comment. */
export const unblockProcedure = publicProcedure
  .input(idInput.extend({ reason: reasonSchema.nullish(), comment_author: nameSchema.nullish() }))
  .mutation(({ ctx, input }) => {
    const board = ctx.board(input.board);
    scopedTask(ctx, board, input.id);
    board.unblockTask(input.id);
    if (input.comment_author && input.reason?.trim())
      board.addComment(input.id, input.comment_author, `UNBLOCK: ${input.reason.trim()}`);
    return result(board, input.id);
  });
