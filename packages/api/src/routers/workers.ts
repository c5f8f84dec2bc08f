import { boardProcedure, router } from "../trpc.ts";

export const workersRouter = router({
  /** Every open run with its task, pid, lease and heartbeat (a tenant: runs of its tasks only). */
  active: boardProcedure.query(async ({ ctx }) => await ctx.board.activeWorkers()),
});
