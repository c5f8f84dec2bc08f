import { z } from "zod";
import { assigneesFor } from "../queries/workers.ts";
import { withBoard } from "../schemas.ts";
import { publicProcedure, router } from "../trpc.ts";

const boardOnly = z.object(withBoard).prefault({});

export const assigneesRouter = router({
  /** Configured profiles and the board's assignees, each with task counts per status. */
  list: publicProcedure.input(boardOnly).query(({ ctx, input }) => {
    const profiles = Object.keys(ctx.config().profiles);
    return { assignees: assigneesFor(ctx.board(input.board), profiles, ctx.tenant) };
  }),
});
