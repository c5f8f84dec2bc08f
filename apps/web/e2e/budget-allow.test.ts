import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  api,
  type Browser,
  captureOnFailure,
  card,
  column,
  freshBoard,
  launch,
  noPageErrors,
  openBoard,
  shot,
  waitUntil,
} from "./helpers.ts";

// Issue 21: a spent budget pauses its running cards and holds its ready ones; the drawer's "why"
// offers "allow $N more", which resumes them in one step.

let b: Browser;
beforeAll(async () => {
  b = await launch();
});
afterAll(async () => {
  await b?.close();
});

describe("allow more from the board", () => {
  it("a card a spent budget paused shows the budget and resumes after Allow; the held card starts too", async () => {
    captureOnFailure(b, "budget-allow");
    const board = await freshBoard("budget-allow");
    const client = api();
    await client.budgets.set.mutate({ board, scope: "profile", key: "coder", limit_usd: 2 });
    const paused = (await client.tasks.create.mutate({ board, title: "Port the invoice exporter", assignee: "coder" }))
      .task;
    const run = await client.tasks.claim.mutate({ board, id: paused.id });
    // The report that reaches the limit pauses the running card.
    await client.usage.report.mutate({
      board,
      id: paused.id,
      expected_run_id: run.run_id,
      usage: { model: "sonnet", tokens_in: 90_000, cost_usd: 2.25 },
    });
    expect((await client.tasks.get.query({ board, id: paused.id })).task.status).toBe("blocked");
    const held = (await client.tasks.create.mutate({ board, title: "Port the receipts exporter", assignee: "coder" }))
      .task;
    expect((await client.tasks.why.query({ board, id: held.id })).code).toBe("budget_held");

    const page = await openBoard(b, board);
    await card(page, paused.id).click();
    const drawer = page.getByTestId("drawer");
    const row = drawer.getByTestId("budget-allow");
    await row.waitFor();
    expect(await row.getAttribute("data-scope")).toBe("profile");
    expect(await row.textContent()).toContain("profile coder's budget (today, UTC) is spent: $2.25 of $2.00.");
    // The suggestion covers the overspend and a quarter of the limit; a bad amount is refused in place.
    const amount = row.getByTestId("budget-allow-amount");
    expect(await amount.inputValue()).toBe("1.00");
    await amount.fill("-3");
    expect(await row.getByTestId("budget-allow-submit").isDisabled()).toBe(true);
    expect(await row.textContent()).toContain("an amount in dollars");
    await amount.fill("5");
    await shot(page, "budget-allow");
    await row.getByTestId("budget-allow-submit").click();

    const toast = page.getByTestId("toast").filter({ hasText: "Allowed $5 more" });
    await toast.waitFor();
    expect(await toast.textContent()).toContain("profile coder's budget (today, UTC): $4.75 left; 1 card resumes.");
    // Resumed: the paused card is back in the ready lane on the board, and its drawer offers nothing more.
    await column(page, "ready").locator(`[data-testid="card-${paused.id}"]`).waitFor();
    await waitUntil(async () => (await drawer.getByTestId("budget-allow").count()) === 0, 10_000, "the row to go");
    const budget = (await client.budgets.list.query({ board })).budgets[0];
    expect(budget).toMatchObject({ allowance_micro_usd: 5_000_000, state: "ok" });
    expect((await client.tasks.why.query({ board, id: held.id })).code).not.toBe("budget_held");
    noPageErrors(b);
  });
});
