import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, type Browser, captureOnFailure, freshBoard, launch, noPageErrors, openBoard } from "./helpers.ts";

// The attention strip on a board with more flagged tasks than board.get lists: the refresh carries
// the worst 100 as compact rows and the total; the whole list is fetched only when someone asks.

const LIMIT = 100;
let b: Browser;
beforeAll(async () => {
  b = await launch();
});
afterAll(async () => {
  await b?.close();
});

describe("attention strip past its 100 rows", () => {
  it("shows the 100 worst and the total, loads the rest from diagnostics.list on demand, and stays dismissed until more are flagged", async () => {
    captureOnFailure(b, "attention-strip-past-its-100-rows");
    const board = await freshBoard("attention");
    // Assigned to a profile this host does not have (the e2e config has coder and writer): each is
    // flagged at once.
    const flagged = LIMIT + 3;
    for (let i = 0; i < flagged; i++)
      await api().tasks.create.mutate({ board, title: `orphan ${i}`, assignee: "nobody" });
    await api().tasks.create.mutate({ board, title: "fine", assignee: "coder" });

    const listCalls: string[] = [];
    b.context.on("request", (r) => {
      if (r.url().includes("diagnostics.list")) listCalls.push(r.url());
    });
    const page = await openBoard(b, board);
    const strip = page.getByTestId("attention-strip");
    await strip.waitFor();
    expect(await page.getByTestId("attention-count").textContent()).toBe(`${flagged} tasks need attention`);
    const rows = strip.locator('[data-testid^="attention-row-"]');
    expect(await rows.count()).toBe(LIMIT);
    // The rows are board.get's, in its order: the head of diagnostics.list's.
    const view = await api().board.get.query({ board });
    const listed = await api().diagnostics.list.query({ board });
    expect(view.attention_total).toBe(listed.count);
    expect(view.attention.map((a) => a.task_id)).toEqual(listed.diagnostics.slice(0, LIMIT).map((d) => d.task_id));
    const shownIds = async () =>
      (await rows.evaluateAll((els) => els.map((e) => e.getAttribute("data-testid")))).map((t) =>
        String(t).replace("attention-row-", ""),
      );
    expect(await shownIds()).toEqual(view.attention.map((a) => a.task_id));
    expect(await strip.getByTestId("attention-more").textContent()).toContain(`Showing the ${LIMIT} worst`);
    expect(listCalls).toEqual([]); // loading the board did not ask for the whole list

    await strip.getByTestId("attention-show-all").click();
    await strip.getByTestId("attention-showing-all").waitFor();
    expect(await rows.count()).toBe(flagged);
    expect(await shownIds()).toEqual(listed.diagnostics.map((d) => d.task_id));
    expect(listCalls).toHaveLength(1);
    await strip.getByTestId("attention-show-worst").click();
    await strip.getByTestId("attention-show-all").waitFor();
    expect(await rows.count()).toBe(LIMIT);

    // Dismissed, it stays away across a reload; one more flagged task (past the rows or not) brings it back.
    await strip.getByTestId("attention-dismiss").click();
    await strip.waitFor({ state: "detached" });
    await page.reload();
    await page.locator(`[data-testid="board"][data-board="${board}"]`).waitFor();
    await expect
      .poll(() => page.getByTestId("live-status").getAttribute("data-state"), { timeout: 10_000 })
      .toBe("live");
    expect(await page.getByTestId("attention-strip").count()).toBe(0);
    await api().tasks.create.mutate({ board, title: "one more orphan", assignee: "nobody" });
    await page.getByTestId("attention-strip").waitFor();
    expect(await page.getByTestId("attention-count").textContent()).toBe(`${flagged + 1} tasks need attention`);
    noPageErrors(b);
  });
});
