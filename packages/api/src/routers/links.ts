import { z } from "zod";
import { idSchema, withBoard } from "../schemas.ts";
import { scopedTask } from "../scope.ts";
import { publicProcedure, router } from "../trpc.ts";

const linkInput = z.object({ ...withBoard, parent_id: idSchema, child_id: idSchema });

export const linksRouter = router({
  /** Adds a dependency edge; self-links, cycles and unknown ids are 400. `demoted`: a ready child went back to todo. */
  add: publicProcedure.input(linkInput).mutation(({ ctx, input }) => {
    const board = ctx.board(input.board);
    // A tenant-scoped caller may not learn about, or attach to, another tenant's tasks.
    if (ctx.tenant !== null) {
      scopedTask(ctx, board, input.parent_id);
      scopedTask(ctx, board, input.child_id);
    }
    const { demoted } = board.linkTasks(input.parent_id, input.child_id);
    return { ok: true as const, demoted };
  }),

  /** Removes an edge; `ok: false` when there was none. The child is re-gated at once. */
  remove: publicProcedure.input(linkInput).mutation(({ ctx, input }) => {
    const board = ctx.board(input.board);
    if (ctx.tenant !== null) {
      scopedTask(ctx, board, input.parent_id);
      scopedTask(ctx, board, input.child_id);
    }
    return { ok: board.unlinkTasks(input.parent_id, input.child_id, ctx.config().kanban.failure_limit) };
  }),
});
