import { taskProcedure } from "../../trpc.ts";
import { result } from "./shared.ts";

/** Archives a task from any status (a live worker is stopped); archived parents count as finished for their children. */
export const archiveProcedure = taskProcedure.mutation(async ({ ctx, input }) => {
  ctx.terminate((await ctx.board.archiveTask(input.id)).terminate);
  return await result(ctx.board, input.id);
});
