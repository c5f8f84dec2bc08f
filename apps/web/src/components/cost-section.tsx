"use client";

import { useQuery } from "@tanstack/react-query";
import { costView, dollars, tokens } from "../lib/cost.ts";
import { useTRPC } from "../trpc/react.tsx";
import type { DrawerContext } from "./drawer-sections.tsx";
import { SectionTitle } from "./ui.tsx";

/**
 * The drawer's "Cost" (issue 21): what the card's runs consumed, as their workers reported it, and
 * the card with every card below it. Asked again every 15 s while the drawer is open: a report (a
 * heartbeat) changes no card, so no live event would bring it.
 */
export function CostSection({ ctx }: { ctx: DrawerContext }) {
  const trpc = useTRPC();
  const q = useQuery({
    ...trpc.usage.summary.queryOptions({ board: ctx.board, by: "task", task_id: ctx.id }),
    refetchInterval: 15_000,
  });
  if (!q.data) return null;
  const view = costView(q.data, ctx.id);
  const own = view.own;
  return (
    <section data-testid="cost">
      <SectionTitle>Cost</SectionTitle>
      {view.total.reports === 0 ? (
        <p className="text-faint text-xs">No usage reported yet.</p>
      ) : (
        <div className="space-y-0.5 text-xs">
          <p data-testid="cost-own">
            <span className="font-semibold text-sm">{dollars(own.cost_micro_usd)}</span>{" "}
            <span className="text-muted">
              this card · {tokens(own.tokens_in)} in · {tokens(own.tokens_out)} out
              {own.cache_read + own.cache_write > 0 &&
                ` · ${tokens(own.cache_read)} cache read · ${tokens(own.cache_write)} cache write`}
              {` · ${own.reports} ${own.reports === 1 ? "report" : "reports"}`}
            </span>
          </p>
          {view.cardsBelow > 0 && (
            <p data-testid="cost-total">
              <span className="font-semibold">{dollars(view.total.cost_micro_usd)}</span>{" "}
              <span className="text-muted">
                with {view.cardsBelow} {view.cardsBelow === 1 ? "card" : "cards"} below it
              </span>
            </p>
          )}
          {view.total.unpriced > 0 && (
            <p data-testid="cost-unpriced" className="text-amber-600 dark:text-amber-300">
              {view.total.unpriced} {view.total.unpriced === 1 ? "report has" : "reports have"} no price: add the model
              to config.json's prices
            </p>
          )}
        </div>
      )}
    </section>
  );
}
