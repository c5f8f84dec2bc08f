import { hostFacts } from "../../motion-facts.ts";
import { taskProcedure } from "../../trpc.ts";

/**
 * Why the task is (not) moving: `{ moving, code, line, next, detail }`, the kernel's motion judged
 * with this host's facts (the dispatcher's status, config.json's profiles and caps). The same code
 * and line as the task's card on `board.get` and `kanban why`.
 */
export const whyProcedure = taskProcedure.query(
  async ({ ctx, input }) => await ctx.board.explainMotion(ctx.task.id, await hostFacts(ctx, ctx.slug(input.board))),
);
