import { taskProcedure } from "../../trpc.ts";
import { result } from "./shared.ts";

/** Archives a task from any status (a live worker is stopped); archived parents count as finished for their children. */
export const archiveProcedure = taskProcedure.mutation(({ ctx, input }) => {
  ctx.terminate(ctx.board.archiveTask(input.id).terminate);
  return result(ctx.board, input.id);
});
