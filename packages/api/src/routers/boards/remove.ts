import { currentBoard, DEFAULT_BOARD, KanbanDbError, normaliseSlug, removeBoard } from "@kanban/db";
import { z } from "zod";
import { boardSlugSchema } from "../../schemas.ts";
import { adminProcedure } from "../../trpc.ts";

/**
 * Archives a board (or deletes it with `delete`); the default board is refused (400). On PostgreSQL
 * both are refused (400, BOARD_INVALID) before anything changes: the board's schema would outlive
 * its metadata, and other hosts' servers may still be writing to it.
 */
export const removeProcedure = adminProcedure
  .input(z.object({ slug: boardSlugSchema, delete: z.boolean().default(false) }))
  .mutation(async ({ ctx, input }) => {
    const slug = normaliseSlug(input.slug);
    if (ctx.boards.engine === "postgres") {
      // The default board and an unknown one get the answers they get on SQLite (400, 404).
      if (slug === DEFAULT_BOARD) throw new KanbanDbError("BOARD_INVALID", "the 'default' board cannot be removed");
      await ctx.boards.refreshBoards();
      if (!ctx.boards.exists(slug)) throw new KanbanDbError("BOARD_NOT_FOUND", `board '${slug}' does not exist`);
      throw new KanbanDbError(
        "BOARD_INVALID",
        `boards on PostgreSQL cannot be ${input.delete ? "deleted" : "archived"} yet: board '${slug}' is unchanged (its rows stay in schema kanban_${slug}; copy it out with \`kanban db copy\` and drop the schema by hand)`,
        { slug },
      );
    }
    if (slug !== "default" && !ctx.location.dbOverride) {
      ctx.live.stopBoard(ctx.boards.dbPath(slug));
      ctx.boards.evict(slug);
    }
    const result = removeBoard(ctx.location, slug, { archive: !input.delete });
    return { result, current: currentBoard(ctx.location) };
  });
