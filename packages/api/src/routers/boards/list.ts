import { currentBoard, listBoards } from "@kanban/db";
import { z } from "zod";
import { publicProcedure } from "../../trpc.ts";
import { describeBoard } from "./metadata.ts";

/** Every board (default first) with `is_current`, counts per status and the non-archived total. */
export const listProcedure = publicProcedure
  .input(z.object({ include_archived: z.boolean().default(false) }).prefault({}))
  .query(async ({ ctx, input }) => {
    const current = currentBoard(ctx.location);
    const boards = [];
    for (const m of listBoards(ctx.location, { includeArchived: input.include_archived })) {
      boards.push(await describeBoard(ctx, m, current));
    }
    return { boards, current };
  });
