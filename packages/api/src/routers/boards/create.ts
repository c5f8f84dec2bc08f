import { createBoard, currentBoard, setCurrentBoard } from "@kanban/db";
import { z } from "zod";
import { boardSlugSchema } from "../../schemas.ts";
import { adminProcedure } from "../../trpc.ts";
import { checkWorkdir, metaFields } from "./metadata.ts";

/** Creates a board (idempotent); `switch` also makes it the current board. */
export const createProcedure = adminProcedure
  .input(
    z.object({
      slug: boardSlugSchema,
      ...metaFields,
      default_workdir: z.string().max(4096).optional(),
      switch: z.boolean().default(false),
    }),
  )
  .mutation(({ ctx, input }) => {
    const { slug, switch: makeCurrent, default_workdir, ...meta } = input;
    const board = createBoard(ctx.location, slug, {
      ...meta,
      ...(default_workdir !== undefined ? { default_workdir: checkWorkdir(default_workdir, false) } : {}),
    });
    if (makeCurrent) setCurrentBoard(ctx.location, slug);
    // Re-creating with a new project directory must reach an already open board.
    if (default_workdir !== undefined) ctx.boards.evict(slug);
    return { board, current: currentBoard(ctx.location) };
  });
