import { boardProcedure, router } from "../trpc.ts";

export const assigneesRouter = router({
  /** Configured profiles and the board's assignees, each with task counts per status (a tenant: its tasks). */
  list: boardProcedure.query(async ({ ctx }) => {
    const profiles = Object.keys(ctx.config().profiles);
    return { assignees: await ctx.board.assigneesFor(profiles) };
  }),
});
