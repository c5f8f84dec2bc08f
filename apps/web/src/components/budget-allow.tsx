"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import {
  type BudgetLike,
  budgetName,
  parseAllowanceUsd,
  spentBudgetsOf,
  suggestedAllowanceUsd,
} from "../lib/budget-holds.ts";
import { dollars } from "../lib/cost.ts";
import { errorMessage, useTRPC } from "../trpc/react.tsx";
import type { DrawerContext } from "./drawer-sections.tsx";
import { useToasts } from "./toasts.tsx";
import { Button, Input } from "./ui.tsx";

/** One spent budget: what it spent, and "allow $N more" in one step. */
function AllowRow({ ctx, budget }: { ctx: DrawerContext; budget: BudgetLike }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const toasts = useToasts();
  const [amount, setAmount] = useState(() => suggestedAllowanceUsd(budget));
  const parsed = parseAllowanceUsd(amount);
  const name = budgetName(budget);
  const allow = useMutation(
    trpc.budgets.allow.mutationOptions({
      onSuccess: (r) => {
        const resumed = r.resumed.length;
        toasts.push({
          kind: "success",
          title: `Allowed $${parsed.ok ? parsed.usd : amount} more`,
          body: `${name}: ${dollars(Math.max(0, r.budget.remaining_micro_usd))} left; ${resumed} ${resumed === 1 ? "card resumes" : "cards resume"}.`,
        });
        ctx.refresh(r.resumed);
      },
      onError: (err) => toasts.push({ kind: "error", title: "Allow more failed", body: errorMessage(err) }),
      onSettled: () => {
        void queryClient.invalidateQueries({ queryKey: trpc.budgets.list.queryKey() });
        void queryClient.invalidateQueries({ queryKey: trpc.tasks.why.queryKey() });
      },
    }),
  );
  const limit = budget.limit_micro_usd + budget.allowance_micro_usd;
  return (
    <div data-testid="budget-allow" data-scope={budget.scope} data-key={budget.key} className="mt-1 pl-5 text-xs">
      <div className="text-muted">
        <span className="text-fg">{name}</span> is spent: {dollars(budget.spent_micro_usd)} of {dollars(limit)}.
      </div>
      {budget.tenant === null ? (
        <form
          className="mt-1 flex items-center gap-1.5"
          onSubmit={(e) => {
            e.preventDefault();
            if (!parsed.ok || allow.isPending) return;
            allow.mutate({
              board: ctx.board,
              scope: budget.scope,
              key: budget.scope === "board" ? null : budget.key,
              amount_usd: parsed.usd,
            });
          }}
        >
          <span className="text-muted">Allow $</span>
          <Input
            data-testid="budget-allow-amount"
            aria-label={`Dollars to allow for ${name}`}
            aria-invalid={!parsed.ok}
            inputMode="decimal"
            className="w-20"
            value={amount}
            onChange={(e) => setAmount(e.target.value)}
          />
          <span className="text-muted">more</span>
          <Button size="sm" type="submit" data-testid="budget-allow-submit" disabled={!parsed.ok || allow.isPending}>
            Allow
          </Button>
          {!parsed.ok && <span className="text-danger">{parsed.error}</span>}
        </form>
      ) : (
        // The operator's "allow" would raise the operator's budget of that scope, not the tenant's.
        <div className="mt-0.5 text-faint">
          A tenant's own budget: the tenant allows more with its token (kanban budget allow).
        </div>
      )}
    </div>
  );
}

/**
 * Under the "why" of a card a spent budget holds (a ready card it keeps from starting, or a running
 * card it paused): each budget that covers the card and is spent, with "allow N more" (issue 21).
 */
export function BudgetAllowPanel({ ctx }: { ctx: DrawerContext }) {
  const trpc = useTRPC();
  const list = useQuery(trpc.budgets.list.queryOptions({ board: ctx.board }));
  const task = ctx.detail.task;
  const spent = spentBudgetsOf(list.data?.budgets ?? [], {
    id: task.id,
    assignee: task.assignee ?? null,
    tenant: task.tenant ?? null,
  });
  if (list.error) return <p className="mt-1 pl-5 text-danger text-xs">{errorMessage(list.error)}</p>;
  if (spent.length === 0) return null;
  return (
    <div data-testid="budget-allow-panel">
      {spent.map((b) => (
        <AllowRow key={`${b.scope}:${b.tenant ?? ""}:${b.key}`} ctx={ctx} budget={b} />
      ))}
    </div>
  );
}
