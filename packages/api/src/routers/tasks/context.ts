import { scopedTask } from "../../scope.ts";
import { publicProcedure } from "../../trpc.ts";
import { idInput } from "./shared.ts";

/** The worker context text (what `kanban context` prints). */
export const contextProcedure = publicProcedure.input(idInput).query(({ ctx, input }) => {
  const board = ctx.board(input.board);
  scopedTask(ctx, board, input.id);
  return { task_id: input.id, context: board.workerContext(input.id) };
});
