import { priceTableOf } from "@kanban/db";
import { invalid, type PriceTable, type UsageInput, usdToMicro } from "@kanban/kernel";
import { z } from "zod";
import type { KanbanContext } from "../context.ts";
import { fenceFields, idSchema } from "../schemas.ts";
import { boardProcedure, router, taskProcedure } from "../trpc.ts";

const tokens = z.number().int().min(0).max(1e12);

/**
 * What a worker may report with heartbeat, complete, block and `usage.report`: the usage since its
 * previous report of the same run. The cost is optional: in dollars (`cost_usd`, at most six
 * decimals) or whole micro-dollars (`cost_micro_usd`); without one, config.json's `prices` price it.
 */
export const usageSchema = z.strictObject({
  model: z.string().max(200).nullish(),
  tokens_in: tokens.nullish(),
  tokens_out: tokens.nullish(),
  cache_read: tokens.nullish(),
  cache_write: tokens.nullish(),
  cost_usd: z.number().min(0).max(1e6).nullish(),
  cost_micro_usd: z.number().int().min(0).max(1e12).nullish(),
});
export type UsageReportInput = z.infer<typeof usageSchema>;

/** The kernel's usage from the wire's (one cost only: dollars and micro-dollars together are refused). */
export function kernelUsage(u: UsageReportInput | null | undefined): UsageInput | null {
  if (!u) return null;
  if (u.cost_usd != null && u.cost_micro_usd != null) throw invalid("usage: give cost_usd or cost_micro_usd, not both");
  const cost = u.cost_micro_usd ?? (u.cost_usd != null ? usdToMicro(u.cost_usd) : null);
  return {
    model: u.model ?? null,
    tokens_in: u.tokens_in ?? 0,
    tokens_out: u.tokens_out ?? 0,
    cache_read: u.cache_read ?? 0,
    cache_write: u.cache_write ?? 0,
    cost_micro_usd: cost,
  };
}

/** The price table of config.json as it is now (people edit prices while the server runs). */
export function pricesOf(ctx: Pick<KanbanContext, "config">): PriceTable {
  return priceTableOf(ctx.config());
}

/** The extra fields a worker-side verb passes to the kernel when its input carries `usage`. */
export function usageFields(ctx: Pick<KanbanContext, "config">, u: UsageReportInput | null | undefined) {
  const usage = kernelUsage(u);
  return usage === null ? {} : { usage, prices: pricesOf(ctx) };
}

const sinceSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/**
 * Cost (issue 21). `report`: a worker's usage on its own running attempt (a run token may call it,
 * fenced to its run). `summary`: the roll-ups, scoped like every board read (a tenant sums only its
 * own reports; a task of another tenant is NOT_FOUND); money is whole micro-dollars.
 */
export const usageRouter = router({
  report: taskProcedure.input(z.object({ ...fenceFields, usage: usageSchema })).mutation(async ({ ctx, input }) => {
    const usage = kernelUsage(input.usage);
    const row = await ctx.board.reportUsage(input.id, usage ?? {}, {
      expected_run_id: input.expected_run_id,
      claim_lock: input.claim_lock,
      via: "report",
      prices: pricesOf(ctx),
    });
    return { ok: true as const, task_id: input.id, usage: row };
  }),

  summary: boardProcedure
    .input(
      z
        .object({
          by: z.enum(["run", "task", "profile", "model", "tenant", "day", "board"]).default("task"),
          since: sinceSchema.nullish(),
          task_id: idSchema.nullish(),
          /** The operator may narrow to one tenant; a tenant's token is always its own. */
          tenant: z.string().max(200).nullish(),
        })
        .prefault({}),
    )
    .query(async ({ ctx, input }) => {
      return await ctx.board.usageSummary({
        by: input.by,
        since: input.since ?? null,
        task_id: input.task_id ?? null,
        tenant: input.tenant ?? null,
      });
    }),
});
