import { VIEW_NAME_MAX } from "@kanban/kernel";
import { z } from "zod";
import { nameSchema } from "../schemas.ts";
import { boardProcedure, router } from "../trpc.ts";

/**
 * Saved views (issue 19): a board's filters under a name. Scoped like every board verb: a tenant
 * lists, saves and deletes only its own; the operator's are the operator's. Saving a name again
 * replaces the view.
 */
export const viewsRouter = router({
  /** The caller's saved views of the board, by name. */
  list: boardProcedure.query(async ({ ctx }) => ({ views: await ctx.board.listViews() })),

  /** Saves the filters under `name` (replacing a view of that name). */
  save: boardProcedure
    .input(
      z.object({
        name: z.string().max(VIEW_NAME_MAX * 4),
        search: z.string().max(500).nullish(),
        tenant: nameSchema.nullish(),
        assignee: nameSchema.nullish(),
        include_archived: z.boolean().default(false),
        created_by: z.string().max(200).nullish(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const { board: _b, name, created_by, ...query } = input;
      return await ctx.board.saveView({ name, query, created_by });
    }),

  /** Deletes a saved view; NOT_FOUND when there is none of that name. */
  delete: boardProcedure
    .input(z.object({ name: z.string().max(VIEW_NAME_MAX * 4) }))
    .mutation(async ({ ctx, input }) => {
      await ctx.board.deleteView(input.name);
      return { deleted: true as const, name: input.name.trim() };
    }),
});
