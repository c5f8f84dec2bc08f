import { z } from "zod";
import { activeWorkers } from "../queries/workers.ts";
import { withBoard } from "../schemas.ts";
import { publicProcedure, router } from "../trpc.ts";

export const workersRouter = router({
  /** Every open run with its task, pid, lease and heartbeat. */
  active: publicProcedure
    .input(z.object(withBoard).prefault({}))
    .query(({ ctx, input }) => activeWorkers(ctx.board(input.board), ctx.tenant)),
});
