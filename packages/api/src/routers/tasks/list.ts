import { LIST_ORDER_NAMES, TASK_PAGE } from "@kanban/kernel";
import { z } from "zod";
import { nameSchema } from "../../schemas.ts";
import type { TaskDto } from "../../scope.ts";
import { boardProcedure } from "../../trpc.ts";

/**
 * One page of tasks (interface C): at most `limit` (default 200, max 1000) and about 4 MiB, in
 * `order_by` order; `next_cursor` continues after the last task, null when there is no more.
 */
export const listProcedure = boardProcedure
  .input(
    z
      .object({
        assignee: nameSchema.nullish(),
        status: z.string().max(32).nullish(),
        tenant: nameSchema.nullish(),
        session_id: nameSchema.nullish(),
        include_archived: z.boolean().default(false),
        order_by: z.enum(LIST_ORDER_NAMES).nullish(),
        workflow_template_id: nameSchema.nullish(),
        current_step_key: nameSchema.nullish(),
        search: z.string().max(500).nullish(),
        limit: z.number().int().min(1).max(TASK_PAGE.maxLimit).nullish(),
        /** Opaque: the `next_cursor` of the previous page (same filters and order). */
        cursor: z.string().max(4096).nullish(),
        /** Adds each task's parent and child ids (one query for the whole page). */
        include_links: z.boolean().default(false),
      })
      .prefault({}),
  )
  .query(
    async ({
      ctx,
      input,
    }): Promise<{ tasks: (TaskDto & { parents?: string[]; children?: string[] })[]; next_cursor: string | null }> => {
      const { board: _slug, include_links, cursor, limit, ...filter } = input;
      // A tenant's page holds its own tasks whatever `tenant` it asks for (the scoped board's rule).
      const page = await ctx.board.taskPage(filter, { cursor, limit });
      if (!include_links) return page;
      const edges = await ctx.board.linkEdges(page.tasks.map((t) => t.id));
      const parents = new Map<string, string[]>();
      const children = new Map<string, string[]>();
      for (const e of edges) {
        parents.set(e.child_id, [...(parents.get(e.child_id) ?? []), e.parent_id]);
        children.set(e.parent_id, [...(children.get(e.parent_id) ?? []), e.child_id]);
      }
      return {
        tasks: page.tasks.map((t) => ({
          ...t,
          parents: parents.get(t.id) ?? [],
          children: children.get(t.id) ?? [],
        })),
        next_cursor: page.next_cursor,
      };
    },
  );
