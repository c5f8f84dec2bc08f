import { z } from "zod";
import { nameSchema, reasonSchema } from "../../schemas.ts";
import { taskProcedure } from "../../trpc.ts";
import { result } from "./shared.ts";

/** Blocked or scheduled → ready (todo while a parent is unfinished); `comment_author` also records an `UNBLOCK:` comment. */
export const unblockProcedure = taskProcedure
  .input(z.object({ reason: reasonSchema.nullish(), comment_author: nameSchema.nullish() }))
  .mutation(async ({ ctx, input }) => {
    await ctx.board.unblockTask(input.id, { reason: input.reason, comment_author: input.comment_author });
    return await result(ctx.board, input.id);
  });
