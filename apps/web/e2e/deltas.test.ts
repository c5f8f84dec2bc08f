import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  api,
  baseUrl,
  type Browser,
  captureOnFailure,
  card,
  cli,
  column,
  freshBoard,
  launch,
  noPageErrors,
  openBoard,
} from "./helpers.ts";

// Issue 19: open boards are kept by deltas. Two browsers (two profiles, as two people would be) on
// one board; each records the board reads it makes, which must stay at none while the other one
// (and the fleet, through the API) changes the board.

let one: Browser;
let two: Browser;
beforeAll(async () => {
  [one, two] = await Promise.all([launch(), launch()]);
});
afterAll(async () => {
  await Promise.all([one?.close(), two?.close()]);
});

/** The whole-board reads (`board.get`, alone or in a batch) a page makes from now on. */
function boardReads(page: Page): { count: () => number; reset: () => void } {
  let n = 0;
  page.on("request", (r) => {
    const url = new URL(r.url());
    if (
      url.pathname.startsWith("/api/trpc/") &&
      url.pathname.slice("/api/trpc/".length).split(",").includes("board.get")
    )
      n++;
  });
  return { count: () => n, reset: () => (n = 0) };
}

/** Creates a card from the page's own dialog. */
async function createFromDialog(page: Page, title: string): Promise<void> {
  await page.keyboard.press("c");
  const dialog = page.getByTestId("create-dialog");
  await dialog.waitFor();
  await page.getByTestId("create-title").fill(title);
  await page.getByTestId("create-submit").click();
  await dialog.waitFor({ state: "detached" });
}

describe("a board kept by deltas", () => {
  it("two browsers see each other's changes, and the fleet's, without reading the board again", async () => {
    captureOnFailure(one, "deltas-two-browsers");
    const board = await freshBoard("deltas");
    const kept = (await api().tasks.create.mutate({ board, title: "Already there", priority: 2 })).task;
    const a = await openBoard(one, board);
    const b = await openBoard(two, board);
    const readsA = boardReads(a);
    const readsB = boardReads(b);

    // A person in the first browser creates a card: the second one shows it from the stream alone.
    await createFromDialog(a, "Made in browser one");
    const made = (await api().tasks.list.query({ board })).tasks.find((t) => t.title === "Made in browser one");
    if (!made) throw new Error("the dialog created nothing");
    await card(b, made.id).waitFor({ timeout: 10_000 });
    await card(a, made.id).waitFor({ timeout: 10_000 });
    expect(readsB.count()).toBe(0);
    // The writer's own board takes its write back as a delta too.
    expect(readsA.count()).toBe(0);

    // And the other way round.
    readsA.reset();
    await createFromDialog(b, "Made in browser two");
    const other = (await api().tasks.list.query({ board })).tasks.find((t) => t.title === "Made in browser two");
    if (!other) throw new Error("the dialog created nothing");
    await card(a, other.id).waitFor({ timeout: 10_000 });
    expect(readsA.count()).toBe(0);

    // The fleet moves cards and deletes one: both boards follow, column counts included.
    readsA.reset();
    readsB.reset();
    await api().tasks.block.mutate({ board, id: made.id, reason: "needs a person" });
    await api().tasks.complete.mutate({ board, id: kept.id, result: "shipped" });
    await api().tasks.delete.mutate({ board, id: other.id });
    for (const page of [a, b]) {
      await column(page, "blocked").getByTestId(`card-${made.id}`).waitFor({ timeout: 10_000 });
      await column(page, "done").getByTestId(`card-${kept.id}`).waitFor({ timeout: 10_000 });
      await card(page, other.id).waitFor({ state: "detached", timeout: 10_000 });
      await expect.poll(() => page.getByTestId("count-blocked").textContent(), { timeout: 10_000 }).toBe("1");
      await expect.poll(() => page.getByTestId("count-done").textContent(), { timeout: 10_000 }).toBe("1");
    }
    expect(readsA.count()).toBe(0);
    expect(readsB.count()).toBe(0);
    noPageErrors(one);
    noPageErrors(two);
  });

  it("a hard delete made by another process reaches an open board", async () => {
    captureOnFailure(one, "deltas-hard-delete");
    const board = await freshBoard("deltas-rm");
    const t = (await api().tasks.create.mutate({ board, title: "To be deleted" })).task;
    await api().tasks.archive.mutate({ board, id: t.id });
    const page = one.context.pages()[0] ?? (await one.context.newPage());
    await page.goto(`${baseUrl()}/?board=${board}&archived=1`);
    await column(page, "archived").getByTestId(`card-${t.id}`).waitFor();
    await expect.poll(() => page.getByTestId("live-status").getAttribute("data-state")).toBe("live");
    const reads = boardReads(page);
    // The CLI, in its own process on the board's file, deletes it for good.
    const rm = await cli(["--board", board, "archive", "--rm", t.id]);
    expect(rm.code, rm.stderr).toBe(0);
    await card(page, t.id).waitFor({ state: "detached", timeout: 10_000 });
    await expect.poll(() => page.getByTestId("count-archived").textContent()).toBe("0");
    expect(reads.count()).toBe(0);
    noPageErrors(one);
  });
});
