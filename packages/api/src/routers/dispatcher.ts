import { liveDispatcherPid, nudgeDispatcher, readDispatcherStatus } from "@kanban/db";
import { adminProcedure, publicProcedure, router } from "../trpc.ts";

export const dispatcherRouter = router({
  /** The dispatcher's last persisted status and whether it is alive now. */
  status: adminProcedure.query(({ ctx }) => {
    const home = ctx.location.home;
    const pid = liveDispatcherPid(home);
    return { alive: pid !== null, pid, status: readDispatcherStatus(home) };
  }),

  /** Asks a running dispatcher to tick now; `nudged: false` when none is alive. */
  nudge: publicProcedure.mutation(({ ctx }) => {
    const nudged = nudgeDispatcher(ctx.location.home);
    return { nudged, alive: nudged };
  }),
});
