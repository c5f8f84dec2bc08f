import { z } from "zod";
import { scopedTask } from "../../scope.ts";
import { publicProcedure } from "../../trpc.ts";
import { failureLimit, idInput } from "./shared.ts";

/** Hard delete from any status (the board's trash); `archived_only` refuses live tasks (`kanban archive --rm`). */
export const deleteProcedure = publicProcedure
  .input(idInput.extend({ archived_only: z.boolean().default(false) }))
  .mutation(({ ctx, input }) => {
    const board = ctx.board(input.board);
    scopedTask(ctx, board, input.id);
    if (input.archived_only) board.deleteArchivedTask(input.id);
    else ctx.terminate(board.deleteTask(input.id, failureLimit(ctx)).terminate);
    return { deleted: true as const, task_id: input.id };
  });
