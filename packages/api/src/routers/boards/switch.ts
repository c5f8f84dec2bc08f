import { setCurrentBoard } from "@kanban/db";
import { z } from "zod";
import { boardSlugSchema } from "../../schemas.ts";
import { adminProcedure } from "../../trpc.ts";
import { requireBoard } from "./metadata.ts";

/** Makes a board the current one (what the CLI uses when no board is named). */
export const switchProcedure = adminProcedure
  .input(z.object({ slug: boardSlugSchema }))
  .mutation(async ({ ctx, input }) => {
    await requireBoard(ctx, input.slug);
    setCurrentBoard(ctx.location, input.slug);
    return { current: ctx.slug() };
  });
