import { z } from "zod";
import { withBoard } from "../../schemas.ts";
import { adminProcedure } from "../../trpc.ts";

/** Promotes every todo/auto-blocked task whose parents are done (what `kanban list` runs first). */
export const recomputeProcedure = adminProcedure
  .input(z.object(withBoard).prefault({}))
  .mutation(async ({ ctx, input }) => {
    return { promoted: await ctx.board(input.board).recomputeReady() };
  });
