import { z } from "zod";
import { reasonSchema, runIdSchema } from "../schemas.ts";
import { boardProcedure, router, taskIdProcedure } from "../trpc.ts";

export const runsRouter = router({
  list: taskIdProcedure.query(async ({ ctx }) => ({ runs: await ctx.board.listRuns(ctx.task.id) })),

  /** A run of a task the caller may see; any other run is NOT_FOUND like an unknown one. */
  get: boardProcedure.input(z.object({ run_id: runIdSchema })).query(async ({ ctx, input }) => {
    return { run: await ctx.board.getRun(input.run_id) };
  }),

  /**
   * Ends a live run by reclaiming its task (the worker is terminated), fenced on that run: 409 when
   * the run already ended or its task has moved on to another run (that newer run is left alone).
   */
  terminate: boardProcedure
    .input(z.object({ run_id: runIdSchema, reason: reasonSchema.nullish() }))
    .mutation(async ({ ctx, input }) => {
      const r = await ctx.board.terminateRun(input.run_id, { reason: input.reason });
      ctx.terminate(r.terminate);
      return { ok: true as const, run_id: input.run_id, task_id: r.task.id };
    }),
});
