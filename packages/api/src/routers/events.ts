import { scopeBoard, type TaskEvent } from "@kanban/kernel";
import { tracked } from "@trpc/server";
import { z } from "zod";
import { toTRPCError } from "../errors.ts";
import { boardWatcher, resumeAfter } from "../live/stream-start.ts";
import { streamEvents } from "../live/stream.ts";
import { idSchema, LIMITS, nameSchema, withBoard } from "../schemas.ts";
import { boardProcedure, publicProcedure, router } from "../trpc.ts";

const filterFields = {
  task_id: idSchema.nullish(),
  tenant: nameSchema.nullish(),
  assignee: nameSchema.nullish(),
  kinds: z.array(z.string().min(1).max(64)).max(50).nullish(),
};

const cursorSchema = z.number().int().min(0);

export const eventsRouter = router({
  /** Events after a cursor (default: from the start), oldest first, at most `limit` (≤ 200). */
  list: boardProcedure
    .input(
      z
        .object({
          ...filterFields,
          after: cursorSchema.default(0),
          limit: z.number().int().min(1).max(LIMITS.eventPage).default(LIMITS.eventPage),
        })
        .prefault({}),
    )
    .query(async ({ ctx, input }) => {
      // An unknown task, or another tenant's, is NOT_FOUND; a tenant reads its own tasks' events only.
      if (input.task_id) await ctx.board.requireTask(input.task_id);
      const events = await ctx.board.eventsAfter(input.after, {
        task_id: input.task_id,
        tenant: input.tenant,
        assignee: input.assignee?.trim().toLowerCase(),
        kinds: input.kinds,
        limit: input.limit,
      });
      return { events, cursor: events.at(-1)?.id ?? input.after };
    }),

  /**
   * Live `task_events` (SSE through httpSubscriptionLink). Starts after `after` (default: now, no
   * replay); a reconnecting client's `lastEventId` wins, so a resumed stream loses nothing. Each
   * event is `tracked` with its id. Writes by any process on the board reach subscribers within a
   * poll interval (150 ms) on SQLite, at once on PostgreSQL (NOTIFY; a 5 s backstop poll).
   */
  subscribe: publicProcedure
    .input(
      z
        .object({
          ...withBoard,
          ...filterFields,
          after: cursorSchema.nullish(),
          lastEventId: z.string().max(32).nullish(),
        })
        .prefault({}),
    )
    .subscription(async function* ({ ctx, input, signal }) {
      let stream: AsyncGenerator<TaskEvent, void>;
      try {
        const slug = ctx.slug(input.board);
        // Built here rather than by boardProcedure: the stream re-resolves the board at each catch-up.
        const board = scopeBoard(ctx.board(slug), { tenant: ctx.tenant });
        if (input.task_id) await board.requireTask(input.task_id);
        const after = resumeAfter(input);
        stream = streamEvents({
          board: () => ctx.board(slug),
          watcher: boardWatcher(ctx, slug),
          after: after ?? (await board.latestEventId()),
          filter: {
            task_id: input.task_id,
            tenant: board.readTenant(input.tenant),
            assignee: input.assignee?.trim().toLowerCase(),
            kinds: input.kinds,
          },
          signal,
        });
      } catch (err) {
        throw toTRPCError(err, ctx.logger, "events.subscribe");
      }
      try {
        // A tenant's stream names no other tenant's task, even in an operator's cross-tenant link event.
        // The board is resolved afresh, as the stream does at each catch-up.
        for await (const event of stream) {
          const [visible] = await scopeBoard(ctx.board(ctx.slug(input.board)), { tenant: ctx.tenant }).redactLinks([
            event,
          ]);
          if (visible) yield tracked(String(event.id), visible);
        }
      } catch (err) {
        throw toTRPCError(err, ctx.logger, "events.subscribe");
      }
    }),
});
