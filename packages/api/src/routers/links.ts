import { z } from "zod";
import { idSchema } from "../schemas.ts";
import { boardProcedure, router } from "../trpc.ts";

const linkInput = z.object({ parent_id: idSchema, child_id: idSchema });

export const linksRouter = router({
  /** Adds a dependency edge; self-links, cycles and unknown ids are 400. `demoted`: a ready child went back to todo. */
  add: boardProcedure.input(linkInput).mutation(async ({ ctx, input }) => {
    // A tenant-scoped caller may not learn about, or attach to, another tenant's tasks: the scoped
    // board refuses either end outside the tenant as an unknown id.
    const { demoted } = await ctx.board.linkTasks(input.parent_id, input.child_id);
    return { ok: true as const, demoted };
  }),

  /** Removes an edge; `ok: false` when there was none. The child is re-gated at once. */
  remove: boardProcedure.input(linkInput).mutation(async ({ ctx, input }) => {
    return { ok: await ctx.board.unlinkTasks(input.parent_id, input.child_id) };
  }),
});
