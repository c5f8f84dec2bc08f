import { reasonSchema } from "../../schemas.ts";
import { scopedTask, taskDto } from "../../scope.ts";
import { publicProcedure } from "../../trpc.ts";
import { idInput } from "./shared.ts";

/** Releases a running task's claim now (its worker is terminated) and puts it back to ready. */
export const reclaimProcedure = publicProcedure
  .input(idInput.extend({ reason: reasonSchema.nullish() }))
  .mutation(({ ctx, input }) => {
    const board = ctx.board(input.board);
    scopedTask(ctx, board, input.id);
    const r = board.reclaimTask(input.id, { reason: input.reason });
    ctx.terminate(r.terminate);
    return { ok: true as const, task_id: input.id, task: taskDto({ ...r.task, warnings: null }) };
  });
