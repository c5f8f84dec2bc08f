import { currentBoard, normaliseSlug, removeBoard } from "@kanban/db";
import { z } from "zod";
import { boardSlugSchema } from "../../schemas.ts";
import { adminProcedure } from "../../trpc.ts";

/** Archives a board (or deletes it with `delete`); the default board is refused (400). */
export const removeProcedure = adminProcedure
  .input(z.object({ slug: boardSlugSchema, delete: z.boolean().default(false) }))
  .mutation(({ ctx, input }) => {
    const slug = normaliseSlug(input.slug);
    if (slug !== "default" && !ctx.location.dbOverride) {
      ctx.live.stopBoard(ctx.boards.dbPath(slug));
      ctx.boards.evict(slug);
    }
    const result = removeBoard(ctx.location, slug, { archive: !input.delete });
    return { result, current: currentBoard(ctx.location) };
  });
