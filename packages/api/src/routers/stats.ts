import { z } from "zod";
import { statsFor } from "../queries/workers.ts";
import { withBoard } from "../schemas.ts";
import { publicProcedure, router } from "../trpc.ts";

const boardOnly = z.object(withBoard).prefault({});

export const statsRouter = router({
  /** Counts by status and assignee, and the age of the oldest ready task. */
  get: publicProcedure.input(boardOnly).query(({ ctx, input }) => statsFor(ctx.board(input.board), ctx.tenant)),
});
