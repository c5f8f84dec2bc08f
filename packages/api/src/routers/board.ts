import { COLUMN_NAMES, DEFAULT_COLUMN_LIMIT, DEFAULT_DONE_LIMIT } from "@kanban/kernel";
import { z } from "zod";
import { hostFacts } from "../motion-facts.ts";
import { boardFilterFields } from "../schemas.ts";
import { boardProcedure, router } from "../trpc.ts";
import { boardChanges } from "./board-changes.ts";

export const boardRouter = router({
  /**
   * The board: columns left to right with card extras, done/archived paged (`done_limit`, each
   * column reports its `total`), tenants, assignees, `latest_event_id` (where to start a live
   * subscription) and `now`. A fixed number of queries whatever the board's size.
   */
  get: boardProcedure
    .input(
      z
        .object({
          ...boardFilterFields,
          done_limit: z.number().int().min(1).max(500).default(DEFAULT_DONE_LIMIT),
          column_limit: z.number().int().min(1).max(2000).default(DEFAULT_COLUMN_LIMIT),
        })
        .prefault({}),
    )
    .query(async ({ ctx, input }) => {
      const slug = ctx.slug(input.board);
      const { board: _b, done_limit, column_limit, ...filter } = input;
      // The scoped board confines cards and the filter lists to a tenant caller's own tenant.
      return await ctx.board.boardView(slug, filter, {
        doneLimit: done_limit,
        columnLimit: column_limit,
        knownProfiles: ctx.knownProfiles()?.names,
        // Cards that are not moving say why (`motion: {code, line}`), as tasks.why does in full.
        motionFacts: await hostFacts(ctx, slug),
      });
    }),

  /** The view kept current by deltas after each burst of events (see board-changes.ts). */
  changes: boardChanges,

  /** One page of one column, after `cursor` (a column's `next_cursor`). */
  column: boardProcedure
    .input(
      z.object({
        ...boardFilterFields,
        column: z.enum([...COLUMN_NAMES, "archived"]),
        cursor: z.string().max(500).nullish(),
        limit: z.number().int().min(1).max(500).default(DEFAULT_DONE_LIMIT),
      }),
    )
    .query(async ({ ctx, input }) => {
      const { board: _b, column, cursor, limit, ...filter } = input;
      return await ctx.board.columnPage(column, filter, {
        cursor,
        limit,
        knownProfiles: ctx.knownProfiles()?.names,
        motionFacts: await hostFacts(ctx, ctx.slug(input.board)),
      });
    }),
});
