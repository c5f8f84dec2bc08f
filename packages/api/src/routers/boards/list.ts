import { listBoards, readBoardMetadata } from "@kanban/db";
import { z } from "zod";
import { publicProcedure } from "../../trpc.ts";
import { describeBoard } from "./metadata.ts";

/** Every board (default first) with `is_current`, counts per status and the non-archived total. */
export const listProcedure = publicProcedure
  .input(z.object({ include_archived: z.boolean().default(false) }).prefault({}))
  .query(async ({ ctx, input }) => {
    // PostgreSQL: the boards are the database's schemas (whichever host made them); this home's
    // board.json files only describe them.
    await ctx.boards.refreshBoards();
    const current = ctx.slug();
    const metas = listBoards(ctx.location, { includeArchived: input.include_archived }).filter((m) =>
      ctx.boards.exists(m.slug),
    );
    for (const slug of ctx.boards.databaseOnlyBoards()) metas.push(readBoardMetadata(ctx.location, slug));
    const [first, ...rest] = metas;
    const ordered = first
      ? [first, ...rest.sort((a, b) => a.slug.toLowerCase().localeCompare(b.slug.toLowerCase()))]
      : [];
    const boards = [];
    for (const m of ordered) boards.push(await describeBoard(ctx, m, current));
    return { boards, current };
  });
