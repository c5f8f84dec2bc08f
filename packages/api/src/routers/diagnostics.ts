import { SEVERITIES } from "@kanban/kernel";
import { z } from "zod";
import { idSchema, withBoard } from "../schemas.ts";
import { scopedTask } from "../scope.ts";
import { publicProcedure, router } from "../trpc.ts";

export const diagnosticsRouter = router({
  /** What is wrong on the board, worst first; `severity` keeps that level and above. */
  list: publicProcedure
    .input(z.object({ ...withBoard, severity: z.enum(SEVERITIES).nullish(), task_id: idSchema.nullish() }).prefault({}))
    .query(({ ctx, input }) => {
      const board = ctx.board(input.board);
      if (input.task_id) scopedTask(ctx, board, input.task_id);
      const failureLimit = ctx.config().kanban.failure_limit;
      let list = board.diagnostics({
        failureLimit,
        severity: input.severity ?? undefined,
        taskId: input.task_id ?? undefined,
        knownProfiles: ctx.knownProfiles()?.names,
      });
      if (ctx.tenant !== null) {
        const own = board.tenantTaskIds(ctx.tenant);
        list = list.filter((d) => own.has(d.task_id));
      }
      return { diagnostics: list, count: list.length };
    }),
});
