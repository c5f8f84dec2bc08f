import { BUDGET_SCOPES, usdToMicro } from "@kanban/kernel";
import { z } from "zod";
import { boardProcedure, router } from "../trpc.ts";

/** A budget's scope and key; the board's needs no key (it is always `*`). */
const scopeFields = {
  scope: z.enum(BUDGET_SCOPES),
  key: z.string().trim().max(200).nullish(),
};

/** Dollars on the wire (at most six decimals, read exactly), micro-dollars inside. */
const usd = z.union([z.number().min(0).max(1e6), z.string().max(20)]);

/**
 * Budgets that pause (issue 21). Scoped like every board verb: a tenant sets, allows and lists only
 * its own budgets, which count only its own spend; the operator's count the whole board. A run token
 * may call none of them (a worker does not raise its own budget). Money answers in micro-dollars.
 */
export const budgetsRouter = router({
  /** Every budget the caller sees, with this period's spend, what is left and its state. */
  list: boardProcedure.query(async ({ ctx }) => {
    return { budgets: await ctx.board.listBudgets() };
  }),

  /** Sets (or creates) a budget: a card's for its life, a board's, profile's or tenant's per UTC day. */
  set: boardProcedure
    .input(
      z.object({
        ...scopeFields,
        limit_usd: usd,
        /** The warning share in whole percent; default 80 (or the budget's current one). */
        warn_percent: z.number().int().min(1).max(100).nullish(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      return await ctx.board.setBudget({
        scope: input.scope,
        key: input.key ?? null,
        limit_micro_usd: usdToMicro(input.limit_usd),
        warn_percent: input.warn_percent ?? null,
      });
    }),

  /**
   * "Allow N more": raises the budget's current period by `amount_usd` in one step; the cards it
   * paused resume (`resumed`). NOT_FOUND when no such budget is set.
   */
  allow: boardProcedure.input(z.object({ ...scopeFields, amount_usd: usd })).mutation(async ({ ctx, input }) => {
    return await ctx.board.allowBudget({
      scope: input.scope,
      key: input.key ?? null,
      amount_micro_usd: usdToMicro(input.amount_usd),
    });
  }),
});
