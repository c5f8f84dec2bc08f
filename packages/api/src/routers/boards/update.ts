import { writeBoardMetadata } from "@kanban/db";
import { z } from "zod";
import { boardSlugSchema } from "../../schemas.ts";
import { adminProcedure } from "../../trpc.ts";
import { checkWorkdir, metaFields, requireBoard } from "./metadata.ts";

/** Edits display metadata; `default_workdir: ""` clears the project directory. */
export const updateProcedure = adminProcedure
  .input(z.object({ slug: boardSlugSchema, ...metaFields, default_workdir: z.string().max(4096).optional() }))
  .mutation(async ({ ctx, input }) => {
    const { slug, default_workdir, ...meta } = input;
    await requireBoard(ctx, slug);
    const board = writeBoardMetadata(ctx.location, slug, {
      ...meta,
      ...(default_workdir !== undefined ? { default_workdir: checkWorkdir(default_workdir, true) } : {}),
    });
    // The open board caches its project directory; reopen it with the new one.
    if (default_workdir !== undefined) ctx.boards.evict(slug);
    return { board };
  });
