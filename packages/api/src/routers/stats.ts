import { FLOW_BLOCKED_MAX } from "@kanban/kernel";
import { z } from "zod";
import { boardProcedure, router } from "../trpc.ts";

/** A unix time in seconds, as the flow window's ends are given. */
const unixSeconds = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const statsRouter = router({
  /** Counts by status and assignee, and the age of the oldest ready task (a tenant: over its tasks only). */
  get: boardProcedure.query(async ({ ctx }) => await ctx.board.statsFor()),

  /**
   * Flow over a window (issue 21): throughput per day, cycle and lead times, time in status, the
   * ready queue, blocked time by reason, rework and each profile's run outcomes. Default window: the
   * last 30 days. A tenant measures its own tasks only.
   */
  flow: boardProcedure
    .input(z.object({ since: unixSeconds.nullish(), until: unixSeconds.nullish() }).prefault({}))
    .query(async ({ ctx, input }) => await ctx.board.flowStats({ since: input.since, until: input.until })),

  /**
   * The cards behind one row of flow's blocked reasons: each card with a blocked episode of
   * `reason` that began in the window, in the order they were first blocked (the analytics page's
   * drill). A tenant sees its own cards only.
   */
  flowBlocked: boardProcedure
    .input(
      z.object({
        reason: z.string().min(1).max(200),
        since: unixSeconds.nullish(),
        until: unixSeconds.nullish(),
        limit: z.number().int().min(1).max(FLOW_BLOCKED_MAX).optional(),
      }),
    )
    .query(
      async ({ ctx, input }) =>
        await ctx.board.flowBlockedCards({
          reason: input.reason,
          since: input.since,
          until: input.until,
          limit: input.limit,
        }),
    ),
});
