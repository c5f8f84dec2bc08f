import { boardProcedure, router } from "../trpc.ts";

export const statsRouter = router({
  /** Counts by status and assignee, and the age of the oldest ready task (a tenant: over its tasks only). */
  get: boardProcedure.query(async ({ ctx }) => await ctx.board.statsFor()),
});
