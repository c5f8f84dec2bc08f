import { z } from "zod";
import { taskProcedure } from "../../trpc.ts";

/** Hard delete from any status (the board's trash); `archived_only` refuses live tasks (`kanban archive --rm`). */
export const deleteProcedure = taskProcedure
  .input(z.object({ archived_only: z.boolean().default(false) }))
  .mutation(async ({ ctx, input }) => {
    if (input.archived_only) await ctx.board.deleteArchivedTask(input.id);
    else ctx.terminate((await ctx.board.deleteTask(input.id)).terminate);
    return { deleted: true as const, task_id: input.id };
  });
