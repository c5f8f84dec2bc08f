import fs from "node:fs";
import path from "node:path";
import { logsDir } from "@kanban/db";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundledScript } from "@kanban/db/testing-scripts";
import { WEB_DIR } from "./env.ts";
import {
  api,
  baseUrl,
  type Browser,
  captureOnFailure,
  card,
  column,
  dragTo,
  freshBoard,
  kanbanHome,
  launch,
  noPageErrors,
  runNode,
  shot,
  waitUntil,
} from "./helpers.ts";

// Issue 19: a team's board at 50,000 cards, most of them done. Its first screen is measured (and
// reported), it scrolls and drags, and huge cards (a 100 KB body, 1,000 comments) cost the board
// nothing until their drawer opens, which pages them.

const TOTAL = 50_000;
let b: Browser;
let board: string;
let seeded: { ms: number; huge: string; chatty: string; counts: Record<string, number> };
beforeAll(async () => {
  b = await launch();
  board = await freshBoard("large");
  const run = await runNode([
    await bundledScript({ file: path.join(WEB_DIR, "e2e", "fixtures", "seed-large.ts") }),
    kanbanHome(),
    board,
    String(TOTAL),
  ]);
  if (run.code !== 0) throw new Error(`seeding failed: ${run.stderr}`);
  seeded = JSON.parse(run.stdout.trim());
}, 180_000);
afterAll(async () => {
  await b?.close();
});

/** The longest main-thread task (ms) the page ran since `start()`, from the browser's own long-task timing. */
async function watchLongTasks(page: Page) {
  await page.evaluate(() => {
    const w = window as unknown as { __longest: number; __observer?: PerformanceObserver };
    w.__longest = 0;
    w.__observer?.disconnect();
    w.__observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) w.__longest = Math.max(w.__longest, e.duration);
    });
    w.__observer.observe({ type: "longtask" });
  });
  return async () => await page.evaluate(() => (window as unknown as { __longest: number }).__longest);
}

describe("a 50,000-card board", () => {
  it("renders its first screen, scrolls and drags, with every column counted", async () => {
    captureOnFailure(b, "large-board");
    const page = b.context.pages()[0] ?? (await b.context.newPage());
    const started = Date.now();
    await page.goto(`${baseUrl()}/?board=${board}`);
    const ready = seeded.counts.ready ?? 0;
    // The first screen: every active column counted and the top cards of Ready drawn.
    await waitUntil(
      async () => (await page.getByTestId("count-ready").textContent()) === String(ready + 2),
      30_000,
      "the ready column's count",
    );
    await column(page, "ready").locator('[data-testid^="card-t_"]').first().waitFor();
    const firstScreenMs = Date.now() - started;
    expect(await page.getByTestId("count-done").textContent()).toBe(String(seeded.counts.done));
    expect(await page.getByTestId("count-blocked").textContent()).toBe(String(seeded.counts.blocked));
    // Navigation timing from the browser itself: from the request to the first card painted.
    const nav = await page.evaluate(() => {
      const n = performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming | undefined;
      return n ? Math.round(n.responseStart) : null;
    });
    await shot(page, "large-50k");

    process.stdout.write(
      `large: seeded ${TOTAL} cards in ${seeded.ms} ms; first screen ${firstScreenMs} ms (document response at ${nav} ms)\n`,
    );

    // Scroll the Ready column with the wheel, far past its first page: further pages load as the end
    // nears, and the window keeps the DOM small.
    const longest = await watchLongTasks(page);
    const body = page.getByTestId("column-body-ready");
    const box = await body.boundingBox();
    if (!box) throw new Error("the ready column is not on screen");
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    const scrollStart = Date.now();
    for (let i = 0; i < 60; i++) {
      await page.mouse.wheel(0, 2000);
      await page.waitForTimeout(30);
    }
    await waitUntil(
      async () => (await body.evaluate((el) => el.scrollTop)) > 60_000,
      20_000,
      "the ready column to scroll past its first pages",
    );
    const scrollMs = Date.now() - scrollStart;
    const longestScrollTask = await longest();
    const scrolledTo = await body.evaluate((el) => el.scrollTop);
    expect(await page.locator('[aria-roledescription="draggable card"]').count()).toBeLessThan(400);

    // Drag the top ready card to Blocked (with its reason): the move is the server's.
    await body.evaluate((el) => {
      el.scrollTop = 0;
    });
    // The first card by the server's order (priority, then age): the one at the top once the window settles.
    const id = (await api().board.get.query({ board })).columns.find((c) => c.name === "ready")?.tasks[0]?.id;
    if (!id) throw new Error("no ready card");
    await card(page, id).waitFor();
    await dragTo(page, card(page, id), column(page, "blocked"));
    await page.getByTestId("confirm-dialog").waitFor();
    await page.getByTestId("confirm-reason").fill("needs a decision");
    const dragStart = Date.now();
    await page.getByTestId("confirm-ok").click();
    await expect
      .poll(async () => (await api().tasks.get.query({ board, id })).task.status, { timeout: 10_000 })
      .toBe("blocked");
    await column(page, "blocked").getByTestId(`card-${id}`).waitFor({ timeout: 10_000 });
    const dragMs = Date.now() - dragStart;

    process.stdout.write(
      `large: scrolled ${scrolledTo} px of Ready in ${scrollMs} ms, longest main-thread task ${Math.round(longestScrollTask)} ms; drag to blocked shown in ${dragMs} ms\n`,
    );
    noPageErrors(b);
  });

  it("a 100 KB card and a 1,000-comment card cost the board nothing until their drawer opens, which pages them", async () => {
    captureOnFailure(b, "large-huge-cards");
    // The board carries cut bodies and counts, not the text.
    const res = await fetch(`${baseUrl()}/api/trpc/board.get?input=${encodeURIComponent(JSON.stringify({ board }))}`);
    const text = await res.text();
    expect(text).not.toContain("lazy dog. The quick brown fox jumps over the lazy dog. ".repeat(10));
    expect(text).not.toContain("Progress note 999");

    const page = b.context.pages()[0] ?? (await b.context.newPage());
    await page.goto(`${baseUrl()}/?board=${board}&task=${seeded.huge}`);
    const drawer = page.getByTestId("drawer");
    const opened = Date.now();
    await drawer.getByText("The quick brown fox", { exact: false }).first().waitFor({ timeout: 15_000 });
    const hugeMs = Date.now() - opened;
    // Still responsive: typing a comment shows at once.
    const longest = await watchLongTasks(page);
    await page.getByTestId("comment-input").fill("reading the spec");
    expect(await page.getByTestId("comment-input").inputValue()).toBe("reading the spec");
    const typingLongest = await longest();

    await page.goto(`${baseUrl()}/?board=${board}&task=${seeded.chatty}`);
    const openedChatty = Date.now();
    await page.getByTestId("comments-earlier").waitFor({ timeout: 15_000 });
    const chattyMs = Date.now() - openedChatty;
    const list = page.getByTestId("comment-list").locator("li");
    expect(await list.count()).toBe(50);
    expect(await page.getByTestId("comments-earlier").textContent()).toContain("950 more");
    expect(await list.last().textContent()).toContain("Progress note 999");
    await page.getByTestId("comments-earlier").click();
    await waitUntil(async () => (await list.count()) === 150, 10_000, "the next page of comments");
    expect(await list.first().textContent()).toContain("Progress note 850");
    expect(await page.getByTestId("comments-earlier").textContent()).toContain("850 more");
    await shot(page, "large-comments");

    // A 10,000-line worker log: the drawer shows its end and pages back through it on request.
    const logFile = path.join(logsDir({ home: kanbanHome() }, board), `${seeded.chatty}.log`);
    fs.mkdirSync(path.dirname(logFile), { recursive: true });
    fs.writeFileSync(logFile, Array.from({ length: 10_000 }, (_, i) => `worker output line ${i}\n`).join(""));
    await page.getByTestId("worker-log").locator("summary").click();
    const content = page.getByTestId("log-content");
    await expect
      .poll(async () => await content.textContent(), { timeout: 10_000 })
      .toContain("worker output line 9999");
    expect(await content.textContent()).not.toContain("worker output line 0\n");
    let pages = 0;
    while ((await page.getByTestId("log-earlier").count()) > 0 && pages < 20) {
      const before = (await content.textContent())?.length ?? 0;
      await page.getByTestId("log-earlier").click();
      await waitUntil(async () => ((await content.textContent())?.length ?? 0) > before, 10_000, "an earlier page");
      pages++;
    }
    const whole = (await content.textContent()) ?? "";
    expect(whole.startsWith("worker output line 0\nworker output line 1\n")).toBe(true);
    expect(whole.split("\n").filter(Boolean)).toHaveLength(10_000);
    expect(pages).toBeGreaterThan(5);
    await page.getByTestId("log-follow").click();
    await page.getByTestId("log-earlier").waitFor();
    process.stdout.write(
      `large: 100 KB card drawer in ${hugeMs} ms (longest task while typing ${Math.round(typingLongest)} ms); 1,000-comment drawer in ${chattyMs} ms\n`,
    );
    noPageErrors(b);
  });
});
