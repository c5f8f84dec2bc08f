import { wrongState } from "@kanban/kernel";
import { z } from "zod";
import { nameSchema, reasonSchema } from "../../schemas.ts";
import { taskProcedure } from "../../trpc.ts";

/** Operator promotion todo/blocked → ready; refused (409) with unfinished parents or another status. */
export const promoteProcedure = taskProcedure
  .input(
    z.object({
      reason: reasonSchema.nullish(),
      actor: nameSchema.nullish(),
      dry_run: z.boolean().default(false),
    }),
  )
  .mutation(async ({ ctx, input }) => {
    const r = await ctx.board.promoteTask(input.id, {
      actor: input.actor,
      reason: input.reason,
      dryRun: input.dry_run,
    });
    if (!r.ok) throw wrongState(`cannot promote ${input.id}: ${r.error ?? "refused"}`, { task_id: input.id });
    return {
      task_id: input.id,
      promoted: !input.dry_run,
      dry_run: input.dry_run,
      reason: input.reason ?? null,
      error: null,
    };
  });
