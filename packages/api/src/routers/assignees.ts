import { boardProcedure, router } from "../trpc.ts";

export const assigneesRouter = router({
  /** Configured profiles and the board's assignees, each with task counts per status (a tenant: its tasks). */
  list: boardProcedure.query(({ ctx }) => {
    const profiles = Object.keys(ctx.config().profiles);
    return { assignees: ctx.board.assigneesFor(profiles) };
  }),
});
