import { SEVERITIES } from "@kanban/kernel";
import { z } from "zod";
import { idSchema } from "../schemas.ts";
import { boardProcedure, router } from "../trpc.ts";

export const diagnosticsRouter = router({
  /** What is wrong on the board, worst first; `severity` keeps that level and above. */
  list: boardProcedure
    .input(z.object({ severity: z.enum(SEVERITIES).nullish(), task_id: idSchema.nullish() }).prefault({}))
    .query(async ({ ctx, input }) => {
      // An unknown task, or another tenant's, is NOT_FOUND (the operator's scope checks existence here).
      if (input.task_id) await ctx.board.requireTask(input.task_id);
      // A tenant's list holds its own tasks' diagnostics only.
      const list = await ctx.board.diagnostics({
        severity: input.severity ?? undefined,
        taskId: input.task_id ?? undefined,
        knownProfiles: ctx.knownProfiles()?.names,
      });
      return { diagnostics: list, count: list.length };
    }),
});
