import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  api,
  type Browser,
  captureOnFailure,
  card,
  freshBoard,
  launch,
  noPageErrors,
  openBoard,
  shot,
} from "./helpers.ts";

// Issue 21: the drawer shows what a card cost, its own and with the cards below it, as workers reported it.

let b: Browser;
beforeAll(async () => {
  b = await launch();
});
afterAll(async () => {
  await b?.close();
});

describe("the drawer's cost", () => {
  it("shows the card's own cost, the cost with its child card, and the reports nobody could price", async () => {
    captureOnFailure(b, "drawer-cost");
    const board = await freshBoard("cost");
    const client = api();
    const parent = (
      await client.tasks.create.mutate({ board, title: "Migrate the billing service", assignee: "coder" })
    ).task;
    const child = (await client.tasks.create.mutate({ board, title: "Backfill invoices", assignee: "coder" })).task;
    await client.links.add.mutate({ board, parent_id: parent.id, child_id: child.id });
    const p = await client.tasks.claim.mutate({ board, id: parent.id });
    await client.usage.report.mutate({
      board,
      id: parent.id,
      expected_run_id: p.run_id,
      usage: { model: "sonnet", tokens_in: 1_234_567, tokens_out: 89_012, cost_micro_usd: 5_038_881 },
    });
    await client.tasks.complete.mutate({
      board,
      id: parent.id,
      expected_run_id: p.run_id,
      summary: "migrated",
      usage: { model: "sonnet", cache_read: 300_000, cache_write: 40_000, cost_micro_usd: 300_000 },
    });
    const c = await client.tasks.claim.mutate({ board, id: child.id });
    await client.usage.report.mutate({
      board,
      id: child.id,
      expected_run_id: c.run_id,
      usage: { model: "sonnet", tokens_in: 4_000, cost_usd: 0.0125 },
    });
    await client.usage.report.mutate({ board, id: child.id, usage: { model: "mystery-model", tokens_in: 5 } });

    const page = await openBoard(b, board);
    await card(page, parent.id).click();
    const section = page.getByTestId("drawer").getByTestId("cost");
    await section.getByTestId("cost-own").waitFor();
    expect(await section.getByTestId("cost-own").textContent()).toBe(
      "$5.338881 this card · 1.2M in · 89k out · 300k cache read · 40k cache write · 2 reports",
    );
    expect(await section.getByTestId("cost-total").textContent()).toBe("$5.351381 with 1 card below it");
    expect(await section.getByTestId("cost-unpriced").textContent()).toContain("1 report has no price");
    await section.scrollIntoViewIfNeeded();
    await shot(page, "drawer-cost");

    await page.getByTestId("drawer-close").click();
    await card(page, child.id).click();
    const own = page.getByTestId("drawer").getByTestId("cost").getByTestId("cost-own");
    await own.waitFor();
    expect(await own.textContent()).toBe("$0.0125 this card · 4005 in · 0 out · 2 reports");
    expect(await page.getByTestId("drawer").getByTestId("cost").getByTestId("cost-total").count()).toBe(0);
    noPageErrors(b);
  });
});
