import { wrongState } from "@kanban/kernel";
import { z } from "zod";
import { reasonSchema, runIdSchema } from "../schemas.ts";
import { boardProcedure, router, taskIdProcedure } from "../trpc.ts";

export const runsRouter = router({
  list: taskIdProcedure.query(({ ctx }) => ({ runs: ctx.board.listRuns(ctx.task.id) })),

  /** A run of a task the caller may see; any other run is NOT_FOUND like an unknown one. */
  get: boardProcedure.input(z.object({ run_id: runIdSchema })).query(({ ctx, input }) => {
    return { run: ctx.board.getRun(input.run_id) };
  }),

  /** Ends a live run by reclaiming its task (the worker is terminated); 409 when the run already ended. */
  terminate: boardProcedure
    .input(z.object({ run_id: runIdSchema, reason: reasonSchema.nullish() }))
    .mutation(({ ctx, input }) => {
      const board = ctx.board;
      const run = board.getRun(input.run_id);
      if (run.ended_at !== null)
        throw wrongState(`run ${input.run_id} already ended (${run.outcome ?? run.status})`, { run_id: input.run_id });
      const r = board.reclaimTask(run.task_id, { reason: input.reason ?? `run ${input.run_id} terminated` });
      ctx.terminate(r.terminate);
      return { ok: true as const, run_id: input.run_id, task_id: run.task_id };
    }),
});
