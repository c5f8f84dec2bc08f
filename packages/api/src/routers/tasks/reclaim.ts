import { z } from "zod";
import { reasonSchema } from "../../schemas.ts";
import { taskProcedure } from "../../trpc.ts";
import { withWarnings } from "./shared.ts";

/** Releases a running task's claim now (its worker is terminated) and puts it back to ready. */
export const reclaimProcedure = taskProcedure
  .input(z.object({ reason: reasonSchema.nullish() }))
  .mutation(async ({ ctx, input }) => {
    const r = await ctx.board.reclaimTask(input.id, { reason: input.reason });
    ctx.terminate(r.terminate);
    return { ok: true as const, task_id: input.id, task: await withWarnings(ctx.board, r.task) };
  });
