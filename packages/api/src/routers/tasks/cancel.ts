import { z } from "zod";
import { nameSchema, reasonSchema } from "../../schemas.ts";
import { taskProcedure } from "../../trpc.ts";
import { withWarnings } from "./shared.ts";

/**
 * Cancels a task: a running one loses its claim (its run ends `reclaimed`) and, in the same
 * transaction, every task goes to `blocked` with the reason `cancelled: <reason>`, so a hung card
 * is not simply run again. A local worker is stopped here (or by the dispatcher's containment);
 * a remote host hears that the run is no longer its own at its next heartbeat and stops the tree.
 */
export const cancelProcedure = taskProcedure
  .input(z.object({ reason: reasonSchema.trim().min(1).nullish(), actor: nameSchema.nullish() }))
  .mutation(async ({ ctx, input }) => {
    const r = await ctx.board.cancelTask(input.id, {
      reason: input.reason ?? "no reason given",
      actor: input.actor ?? (ctx.tenant === null ? "operator" : `tenant:${ctx.tenant}`),
    });
    ctx.terminate(r.terminate);
    return { ok: true as const, task_id: input.id, task: await withWarnings(ctx.board, r.task) };
  });
