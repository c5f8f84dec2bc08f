import { z } from "zod";
import {
  type BoardFilter,
  boardView,
  COLUMN_NAMES,
  columnPage,
  DEFAULT_COLUMN_LIMIT,
  DEFAULT_DONE_LIMIT,
} from "../queries/board-view.ts";
import { nameSchema, withBoard } from "../schemas.ts";
import { tenantFilter } from "../scope.ts";
import { publicProcedure, router } from "../trpc.ts";
import type { KanbanContext } from "../context.ts";

const filterFields = {
  tenant: nameSchema.nullish(),
  assignee: nameSchema.nullish(),
  search: z.string().max(500).nullish(),
  workflow_template_id: nameSchema.nullish(),
  current_step_key: nameSchema.nullish(),
  include_archived: z.boolean().default(false),
};

function filterOf(ctx: KanbanContext, input: BoardFilter): BoardFilter {
  return { ...input, tenant: tenantFilter(ctx, input.tenant) };
}

export const boardRouter = router({
  /**
   * The board: columns left to right with card extras, done/archived paged (`done_limit`, each
   * column reports its `total`), tenants, assignees, `latest_event_id` (where to start a live
   * subscription) and `now`. A fixed number of queries whatever the board's size.
   */
  get: publicProcedure
    .input(
      z
        .object({
          ...withBoard,
          ...filterFields,
          done_limit: z.number().int().min(1).max(500).default(DEFAULT_DONE_LIMIT),
          column_limit: z.number().int().min(1).max(2000).default(DEFAULT_COLUMN_LIMIT),
        })
        .prefault({}),
    )
    .query(({ ctx, input }) => {
      const slug = ctx.slug(input.board);
      const { board: _b, done_limit, column_limit, ...filter } = input;
      return boardView(ctx.board(slug), slug, filterOf(ctx, filter), {
        doneLimit: done_limit,
        columnLimit: column_limit,
        failureLimit: ctx.config().kanban.failure_limit,
        scopeTenant: ctx.tenant,
        knownProfiles: ctx.knownProfiles()?.names,
      });
    }),

  /** One page of one column, after `cursor` (a column's `next_cursor`). */
  column: publicProcedure
    .input(
      z.object({
        ...withBoard,
        ...filterFields,
        column: z.enum([...COLUMN_NAMES, "archived"]),
        cursor: z.string().max(500).nullish(),
        limit: z.number().int().min(1).max(500).default(DEFAULT_DONE_LIMIT),
      }),
    )
    .query(({ ctx, input }) => {
      const { board: slug, column, cursor, limit, ...filter } = input;
      return columnPage(ctx.board(slug), column, filterOf(ctx, filter), {
        cursor,
        limit,
        failureLimit: ctx.config().kanban.failure_limit,
        knownProfiles: ctx.knownProfiles()?.names,
      });
    }),
});
