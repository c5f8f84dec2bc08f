import { scopedTask } from "../../scope.ts";
import { publicProcedure } from "../../trpc.ts";
import { failureLimit, idInput, result } from "./shared.ts";

/** Archives a task from any status (a live worker is stopped); archived parents count as finished for their children. */
export const archiveProcedure = publicProcedure.input(idInput).mutation(({ ctx, input }) => {
  const board = ctx.board(input.board);
  scopedTask(ctx, board, input.id);
  ctx.terminate(board.archiveTask(input.id, failureLimit(ctx)).terminate);
  return result(board, input.id);
});
