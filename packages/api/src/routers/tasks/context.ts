import { taskProcedure } from "../../trpc.ts";

/** The worker context text (what `kanban context` prints). */
export const contextProcedure = taskProcedure.query(async ({ ctx, input }) => {
  return { task_id: input.id, context: await ctx.board.workerContext(input.id) };
});
