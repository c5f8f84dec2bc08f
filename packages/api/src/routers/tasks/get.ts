import { taskProcedure } from "../../trpc.ts";

/** The task drawer: task with extras, comments, last 200 events, runs, links, child results, worker context, diagnostics (the kernel's taskDetail). */
export const getProcedure = taskProcedure.query(
  async ({ ctx }) => await ctx.board.taskDetail(ctx.task, { knownProfiles: ctx.knownProfiles()?.names }),
);
