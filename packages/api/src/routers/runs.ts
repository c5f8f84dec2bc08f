import { type Board, notFound, type TaskRun, wrongState } from "@kanban/kernel";
import { z } from "zod";
import type { KanbanContext } from "../context.ts";
import { idSchema, reasonSchema, runIdSchema, withBoard } from "../schemas.ts";
import { scopedTask, visible } from "../scope.ts";
import { publicProcedure, router } from "../trpc.ts";

/** A run the caller may see: one of a task in its tenant. */
function scopedRun(ctx: KanbanContext, board: Board, runId: number): TaskRun {
  const run = board.getRun(runId);
  const task = board.getTask(run.task_id);
  if (ctx.tenant !== null && (!task || !visible(ctx, task)))
    throw notFound(`run ${runId} not found`, { run_id: runId });
  return run;
}

export const runsRouter = router({
  list: publicProcedure.input(z.object({ ...withBoard, task_id: idSchema })).query(({ ctx, input }) => {
    const board = ctx.board(input.board);
    scopedTask(ctx, board, input.task_id);
    return { runs: board.listRuns(input.task_id) };
  }),

  get: publicProcedure.input(z.object({ ...withBoard, run_id: runIdSchema })).query(({ ctx, input }) => {
    return { run: scopedRun(ctx, ctx.board(input.board), input.run_id) };
  }),

  /** Ends a live run by reclaiming its task (the worker is terminated); 409 when the run already ended. */
  terminate: publicProcedure
    .input(z.object({ ...withBoard, run_id: runIdSchema, reason: reasonSchema.nullish() }))
    .mutation(({ ctx, input }) => {
      const board = ctx.board(input.board);
      const run = scopedRun(ctx, board, input.run_id);
      if (run.ended_at !== null)
        throw wrongState(`run ${input.run_id} already ended (${run.outcome ?? run.status})`, { run_id: input.run_id });
      const r = board.reclaimTask(run.task_id, { reason: input.reason ?? `run ${input.run_id} terminated` });
      ctx.terminate(r.terminate);
      return { ok: true as const, run_id: input.run_id, task_id: run.task_id };
    }),
});
