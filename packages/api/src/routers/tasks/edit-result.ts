import { metadataSchema, resultSchema } from "../../schemas.ts";
import { scopedTask } from "../../scope.ts";
import { publicProcedure } from "../../trpc.ts";
import { idInput, result } from "./shared.ts";

/** Rewrites the handoff of a done task. */
export const editResultProcedure = publicProcedure
  .input(idInput.extend({ result: resultSchema, summary: resultSchema.nullish(), metadata: metadataSchema.nullish() }))
  .mutation(({ ctx, input }) => {
    const board = ctx.board(input.board);
    scopedTask(ctx, board, input.id);
    board.editCompletedResult(input.id, { result: input.result, summary: input.summary, metadata: input.metadata });
    return result(board, input.id);
  });
