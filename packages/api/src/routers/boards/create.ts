import {
  type BoardMetadata,
  boardExists,
  createBoard,
  readBoardMetadata,
  setCurrentBoard,
  writeBoardMetadata,
} from "@kanban/db";
import { z } from "zod";
import { boardSlugSchema } from "../../schemas.ts";
import { adminProcedure } from "../../trpc.ts";
import { checkWorkdir, metaFields, shownMetadata } from "./metadata.ts";

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
  .mutation(async ({ ctx, input }) => {
    const { slug, switch: makeCurrent, default_workdir, ...meta } = input;
    const patch = {
      ...meta,
      ...(default_workdir !== undefined ? { default_workdir: checkWorkdir(default_workdir, false) } : {}),
    };
    let board: BoardMetadata;
    if (ctx.boards.engine === "postgres") {
      // The schema first (idempotent: every host may create the same board), then this host's
      // metadata: a database that refuses leaves no board.json naming a board it lacks.
      await ctx.boards.ready(slug, { create: true });
      board =
        Object.keys(patch).length > 0 || !boardExists(ctx.location, slug)
          ? writeBoardMetadata(ctx.location, slug, patch)
          : readBoardMetadata(ctx.location, slug);
    } else {
      board = createBoard(ctx.location, slug, patch);
    }
    if (makeCurrent) setCurrentBoard(ctx.location, slug);
    // Re-creating with a new project directory must reach an already open board.
    if (default_workdir !== undefined) ctx.boards.evict(slug);
    return { board: shownMetadata(ctx, board), current: ctx.slug() };
  });
