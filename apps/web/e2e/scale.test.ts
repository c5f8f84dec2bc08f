import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundledScript } from "@kanban/db/testing-scripts";
import { WEB_DIR } from "./env.ts";
import {
  api,
  captureOnFailure,
  baseUrl,
  type Browser,
  card,
  column,
  freshBoard,
  kanbanHome,
  launch,
  noPageErrors,
  runNode,
  shot,
  waitUntil,
} from "./helpers.ts";

let b: Browser;
beforeAll(async () => {
  b = await launch();
});
afterAll(async () => {
  await b?.close();
});

const READY = 4000;
const DONE = 1000;

describe("scale", () => {
  it("loads a 5,000-task board, keeps the DOM small and stays responsive", async () => {
    captureOnFailure(b, "loads-a-5-000-task-board-keeps-the-dom-s");
    const board = await freshBoard("scale");
    const seeded = await runNode([
      await bundledScript({ file: path.join(WEB_DIR, "e2e", "fixtures", "seed.ts") }),
      kanbanHome(),
      board,
      String(READY),
      String(DONE),
    ]);
    expect(seeded.code, seeded.stderr).toBe(0);

    const t0 = Date.now();
    const res = await fetch(`${baseUrl()}/api/trpc/board.get?input=${encodeURIComponent(JSON.stringify({ board }))}`);
    const bytes = (await res.arrayBuffer()).byteLength;
    const apiMs = Date.now() - t0;

    const page = b.context.pages()[0] ?? (await b.context.newPage());
    const requests: string[] = [];
    page.on("request", (r) => {
      if (r.url().includes("/api/trpc/")) requests.push(r.url());
    });
    const t1 = Date.now();
    await page.goto(`${baseUrl()}/?board=${board}`);
    await waitUntil(
      async () => (await page.getByTestId("count-ready").textContent()) === String(READY),
      30_000,
      "the ready column's count",
    );
    await column(page, "ready").locator('[data-testid^="card-t_"]').first().waitFor();
    const loadMs = Date.now() - t1;

    // Windowed: only the cards near the viewport are in the DOM.
    const inDom = await page.locator('[aria-roledescription="draggable card"]').count();
    expect(inDom).toBeLessThan(300);
    expect(await page.getByTestId("column-body-ready").getAttribute("data-windowed")).toBe("true");
    // Done is paged on the server: the first page, its total, and more on demand.
    expect(await page.getByTestId("count-done").textContent()).toBe(String(DONE));
    // No N+1: a handful of batched calls, not one per card.
    expect(requests.length).toBeLessThan(12);

    // Keyboard to the far end of a 4,000-card column: the window follows the focus.
    const first = column(page, "ready").locator('[aria-roledescription="draggable card"]').first();
    await first.focus();
    const t2 = Date.now();
    await page.keyboard.press("End");
    const lastFocused = page.locator("[data-focused]");
    await waitUntil(
      async () => (await lastFocused.count()) === 1 && (await lastFocused.isVisible()),
      5000,
      "the last card to be focused and visible",
    );
    const endMs = Date.now() - t2;
    const t3 = Date.now();
    for (let i = 0; i < 20; i++) await page.keyboard.press("k");
    await waitUntil(async () => (await page.locator("[data-focused]").isVisible()) === true, 5000, "the focus to move");
    const navMs = Date.now() - t3;

    const remaining = async () =>
      Number(/\((\d+) more\)/.exec((await page.getByTestId("load-more-done").textContent()) ?? "")?.[1] ?? Number.NaN);
    expect(await remaining()).toBe(DONE - 100);
    await page.getByTestId("load-more-done").click();
    await waitUntil(async () => (await remaining()) < DONE - 100, 10_000, "the next page of done");

    // A live change still arrives on a board this size.
    const t4 = Date.now();
    const fresh = (await api().tasks.create.mutate({ board, title: "Needle in the haystack", priority: 100 })).task;
    await waitUntil(
      async () => (await page.getByTestId("count-ready").textContent()) === String(READY + 1),
      10_000,
      "the new task to be counted",
    );
    const liveMs = Date.now() - t4;
    // The focus is at the far end of the column; Home goes back to the top, where the new task sits.
    await column(page, "ready").locator('[aria-roledescription="draggable card"]').first().focus();
    await page.keyboard.press("Home");
    await card(page, fresh.id).waitFor();
    expect(await card(page, fresh.id).getAttribute("data-focused")).toBe("true");
    await shot(page, "scale-5000");
    process.stdout.write(
      `scale: seed ${seeded.stdout.trim()}; board.get ${apiMs} ms / ${(bytes / 1e6).toFixed(1)} MB; page ready in ${loadMs} ms; ${inDom} cards in the DOM; End in ${endMs} ms; 20×k in ${navMs} ms; live change in ${liveMs} ms; ${requests.length} API requests at load\n`,
    );
    noPageErrors(b);
  });
});
