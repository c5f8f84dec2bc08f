import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  api,
  baseUrl,
  type Browser,
  captureOnFailure,
  card,
  cli,
  freshBoard,
  launch,
  noPageErrors,
  shot,
} from "./helpers.ts";

// Issue 21: the board's analytics page shows the flow and the cost of a seeded board, each figure
// opens its cards, and the page agrees with `kanban stats --flow --json`.

let b: Browser;
beforeAll(async () => {
  b = await launch();
});
afterAll(async () => {
  await b?.close();
});

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Claims a card, reports what its run cost, and completes it. */
async function doneWithCost(board: string, id: string, model: string, cost_usd: number): Promise<void> {
  const client = api();
  const run = await client.tasks.claim.mutate({ board, id });
  await client.tasks.complete.mutate({
    board,
    id,
    expected_run_id: run.run_id,
    summary: "done",
    usage: { model, tokens_in: 1000, tokens_out: 100, cost_usd },
  });
}

/** Claims a card and blocks its run for input a second later (a shorter run is not counted by flow). */
async function blockForInput(board: string, id: string, reason: string): Promise<void> {
  const client = api();
  const run = await client.tasks.claim.mutate({ board, id });
  await pause(1100);
  await client.tasks.block.mutate({ board, id, expected_run_id: run.run_id, reason, kind: "needs_input" });
}

describe("the analytics page", () => {
  it("shows the seeded flow and cost, opens each figure's cards, and matches the CLI's --json", async () => {
    captureOnFailure(b, "analytics");
    const board = await freshBoard("analytics");
    const client = api();
    const create = async (title: string) =>
      (await client.tasks.create.mutate({ board, title, assignee: "coder" })).task;

    // Three cards done by "coder": $1.20 and $0.90 in one run each, $2.40 over two runs (a
    // capability block in between: one rework). One card blocked for input, one waiting ready.
    const a = await create("Write the migration");
    const r = await create("Rotate the API keys");
    const c = await create("Fix the flaky login test");
    const blocked = await create("Pick a payment provider");
    const ready = await create("Update the changelog");
    await doneWithCost(board, a.id, "sonnet", 1.2);
    await doneWithCost(board, c.id, "haiku", 0.9);
    const first = await client.tasks.claim.mutate({ board, id: r.id });
    // A run claimed and blocked within one second looks like the zero-length run a block of an
    // unclaimed card records, which flow does not count: let each blocked run last a second.
    await pause(1100);
    await client.tasks.block.mutate({
      board,
      id: r.id,
      expected_run_id: first.run_id,
      reason: "waits for the vault upgrade",
      kind: "capability",
      usage: { model: "sonnet", tokens_in: 500, cost_usd: 1.0 },
    });
    await client.tasks.unblock.mutate({ board, id: r.id });
    await doneWithCost(board, r.id, "sonnet", 1.4);
    await blockForInput(board, blocked.id, "Stripe or Adyen?");

    const page = b.context.pages()[0] ?? (await b.context.newPage());
    await page.goto(`${baseUrl()}/analytics?board=${encodeURIComponent(board)}&since=30d`);
    await page.getByTestId("flow-done").waitFor();
    const text = async (id: string) => (await page.getByTestId(id).textContent())?.trim();
    expect(await text("flow-done-value")).toBe("3");
    expect(await text("flow-ready-value")).toBe("1 card");
    expect(await text("flow-rework-value")).toBe("1.33 runs / card");
    expect(await text("flow-rework-sub")).toBe("1 card needed more than one run");
    // $4.50 over 3 done cards.
    expect(await text("flow-cost-value")).toBe("$1.50");
    expect(await text("flow-cost-sub")).toBe("$4.50 reported in the window");
    expect(await page.getByTestId("window-30d").getAttribute("aria-pressed")).toBe("true");

    // Blocked by reason: one capability episode (over), one needs_input (still open).
    const reason = (r: string) => page.locator(`[data-testid="blocked-row"][data-reason="${r}"]`);
    expect(await reason("capability").locator("td").nth(1).textContent()).toBe("1");
    expect(await reason("capability").locator("td").nth(2).textContent()).toBe("0");
    expect(await reason("needs_input").locator("td").nth(2).textContent()).toBe("1");

    // coder: 5 runs (3 completed, 2 blocked): 60 %.
    const coder = page.locator('[data-testid="profile-row"][data-profile="coder"]');
    expect(await coder.getByTestId("profile-success").textContent()).toBe("60%");

    // Cost per done card: by profile over coder's 3 completed runs, by model over the 3 done cards.
    const costRow = (table: string, key: string) => page.locator(`[data-testid="${table}-row"][data-key="${key}"]`);
    expect(await costRow("cost-by-profile", "coder").getByTestId("cost-by-profile-per-done").textContent()).toBe(
      "$1.50",
    );
    expect(await costRow("cost-by-model", "sonnet").getByTestId("cost-by-model-per-done").textContent()).toBe("$1.20");
    expect(await costRow("cost-by-model", "haiku").getByTestId("cost-by-model-per-done").textContent()).toBe("$0.30");

    // `kanban stats --flow --json` (the same API) says the same.
    const out = await cli(["--board", board, "stats", "--flow", "--since", "30d", "--json"]);
    expect(out.code, out.stderr).toBe(0);
    const flow = JSON.parse(out.stdout) as { done: number; throughput: { day: string; done: number }[] };
    expect(String(flow.done)).toBe(await text("flow-done-value"));
    const day = flow.throughput.find((d) => d.done > 0)?.day as string;
    expect(await page.getByTestId(`bar-${day}`).getAttribute("data-done")).toBe("3");

    await shot(page, "analytics");

    // A bar opens its cards, and the board shows just those.
    await page.getByTestId(`bar-${day}`).click();
    await expect.poll(() => page.getByTestId("drill-card").count()).toBe(3);
    expect(new URL(page.url()).searchParams.get("cards")).toBe(`day:${day}`);
    const drilled = await page
      .getByTestId("drill-card")
      .evaluateAll((els) => els.map((e) => e.getAttribute("data-id")));
    expect(new Set(drilled)).toEqual(new Set([a.id, r.id, c.id]));
    await page.getByTestId("drill-on-board").click();
    await page.getByTestId("picked-banner").waitFor();
    await card(page, a.id).waitFor();
    expect(await text("picked-count")).toBe("Showing 3 of the 3 cards picked on the analytics page");
    expect(await card(page, ready.id).count()).toBe(0);
    await page.getByTestId("picked-clear").click();
    await card(page, ready.id).waitFor();

    // The blocked reason and the ready queue open theirs.
    await page.goto(`${baseUrl()}/analytics?board=${encodeURIComponent(board)}&cards=blocked:needs_input`);
    await expect.poll(() => page.getByTestId("drill-card").count()).toBe(1);
    expect(await page.getByTestId("drill-card").getAttribute("data-id")).toBe(blocked.id);
    // A reason's episodes that are over still name their card (the capability one, done since).
    await page.getByTestId("blocked-capability").click();
    await expect.poll(() => page.getByTestId("drill-card").getAttribute("data-id")).toBe(r.id);
    expect(await page.getByTestId("drill-card").count()).toBe(1);
    await page.getByTestId("drill-close").click();
    await page.getByTestId("flow-ready").click();
    await expect.poll(() => page.getByTestId("drill-card").count()).toBe(1);
    expect(await page.getByTestId("drill-card").getAttribute("data-id")).toBe(ready.id);

    // A shorter window is kept in the URL; nothing done in a fresh board's window says so.
    await page.getByTestId("window-7d").click();
    await expect.poll(() => new URL(page.url()).searchParams.get("since")).toBe("7d");
    const empty = await freshBoard("analytics-empty");
    await page.goto(`${baseUrl()}/analytics?board=${encodeURIComponent(empty)}&since=90d`);
    await page.getByTestId("throughput-empty").waitFor();
    expect(await text("throughput-empty")).toBe("No card done in this window.");
    expect(await page.getByTestId("window-90d").getAttribute("aria-pressed")).toBe("true");
    noPageErrors(b);
  });

  it("keeps a blocked reason's cards in view while the figures refetch under a new window end", async () => {
    const board = await freshBoard("analytics-refetch");
    const client = api();
    const task = (await client.tasks.create.mutate({ board, title: "Which region?", assignee: "coder" })).task;
    await blockForInput(board, task.id, "EU or US?");

    // A browser of its own: its clock is faked so that the figures go stale without a 30 s wait.
    const own = await launch();
    // The reason's cards are asked for again once the figures answer with a new window end; a request
    // that asks with another end than the first one's is held back until the test has looked at the panel.
    let firstEnd: number | null = null;
    let heldNewEnd = false;
    let release = () => {};
    const releasedAnswer = new Promise<void>((r) => {
      release = r;
    });
    try {
      const page = await own.context.newPage();
      await page.clock.install();
      // Matched on the decoded URL: the client batches queries into one request, in any order.
      await page.route(
        (url) => url.pathname.includes("stats.flowBlocked"),
        async (route) => {
          const input = new URL(route.request().url()).searchParams.get("input") ?? "";
          const ends = [...input.matchAll(/"until":(\d+)/g)].map((m) => Number(m[1]));
          if (firstEnd === null) firstEnd = ends[0] ?? null;
          else if (ends.some((end) => end !== firstEnd)) {
            heldNewEnd = true;
            await releasedAnswer;
          }
          await route.continue();
        },
      );
      await page.goto(`${baseUrl()}/analytics?board=${encodeURIComponent(board)}&cards=blocked:needs_input`);
      await expect.poll(() => page.getByTestId("drill-card").getAttribute("data-id")).toBe(task.id);
      // The server's window end moves by the second; then the figures are stale (30 s), and a return
      // to the tab refetches them.
      await pause(1100);
      await page.clock.fastForward("00:31");
      await page.evaluate(() => document.dispatchEvent(new Event("visibilitychange", { bubbles: true })));
      await expect.poll(() => heldNewEnd).toBe(true);
      // While the new answer is held back, the card is still listed and nothing says it is loading.
      expect(await page.getByTestId("drill-card").count()).toBe(1);
      expect(await page.getByTestId("drill-card").getAttribute("data-id")).toBe(task.id);
      expect(await page.getByText("Loading cards…").count()).toBe(0);
      expect(await page.getByTestId("drill-empty").count()).toBe(0);
      release();
      await expect.poll(() => page.getByTestId("drill-card").count()).toBe(1);
      expect(await page.getByTestId("drill-card").getAttribute("data-id")).toBe(task.id);
      noPageErrors(own);
    } finally {
      release();
      await own.close();
    }
  });

  it("is linked from the board's toolbar", async () => {
    const board = await freshBoard("analytics-link");
    const page = b.context.pages()[0] ?? (await b.context.newPage());
    await page.goto(`${baseUrl()}/?board=${encodeURIComponent(board)}`);
    await page.getByTestId("analytics-link").click();
    await page.locator(`[data-testid="analytics"][data-board="${board}"]`).waitFor();
    await page.getByTestId("flow-done").waitFor();
  });
});
