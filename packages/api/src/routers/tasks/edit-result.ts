import { z } from "zod";
import { metadataSchema, resultSchema } from "../../schemas.ts";
import { taskProcedure } from "../../trpc.ts";
import { result } from "./shared.ts";

/** Rewrites the handoff of a done task. */
export const editResultProcedure = taskProcedure
  .input(z.object({ result: resultSchema, summary: resultSchema.nullish(), metadata: metadataSchema.nullish() }))
  .mutation(async ({ ctx, input }) => {
    await ctx.board.editCompletedResult(input.id, {
      result: input.result,
      summary: input.summary,
      metadata: input.metadata,
    });
    return await result(ctx.board, input.id);
  });
