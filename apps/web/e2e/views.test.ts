import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  api,
  baseUrl,
  type Browser,
  captureOnFailure,
  card,
  freshBoard,
  launch,
  noPageErrors,
  shot,
} from "./helpers.ts";

// Issue 19: the URL holds the board's view, and views are saved by name on the server, so a link or
// a name opens the same filtered board for anyone.

let b: Browser;
beforeAll(async () => {
  b = await launch();
});
afterAll(async () => {
  await b?.close();
});

describe("the board's view", () => {
  it("opens from the URL, is saved by name, and opens by name in another tab with the URL following", async () => {
    captureOnFailure(b, "views");
    const board = await freshBoard("views");
    const mine = (await api().tasks.create.mutate({ board, title: "Coder's migration", assignee: "coder" })).task;
    const theirs = (await api().tasks.create.mutate({ board, title: "Writer's post", assignee: "writer" })).task;

    // A link with filters opens the board filtered, by the server.
    const page = b.context.pages()[0] ?? (await b.context.newPage());
    await page.goto(`${baseUrl()}/?board=${board}&assignee=coder`);
    await card(page, mine.id).waitFor();
    expect(await card(page, theirs.id).count()).toBe(0);
    expect(await page.getByTestId("filter-assignee").inputValue()).toBe("coder");

    // Saved under a name.
    await page.getByTestId("saved-views").selectOption("__save");
    await page.getByTestId("prompt-input").fill("Coder's queue");
    await page.getByTestId("prompt-ok").click();
    await expect
      .poll(async () => (await api().views.list.query({ board })).views.map((v) => v.name))
      .toEqual(["Coder's queue"]);
    await expect.poll(() => page.getByTestId("saved-views").inputValue()).toBe("Coder's queue");
    await shot(page, "saved-views");

    // Another tab opens the plain board, then the view by name: the filters and the URL follow.
    const other = await b.context.newPage();
    try {
      await other.goto(`${baseUrl()}/?board=${board}`);
      await card(other, theirs.id).waitFor();
      await other.getByTestId("saved-views").selectOption("Coder's queue");
      await card(other, theirs.id).waitFor({ state: "detached" });
      await card(other, mine.id).waitFor();
      await expect.poll(() => new URL(other.url()).searchParams.get("assignee")).toBe("coder");

      // Typing a search narrows the board on the server and lands in the URL; the view no longer matches.
      await other.getByTestId("search").fill("migration");
      await expect.poll(() => new URL(other.url()).searchParams.get("q")).toBe("migration");
      expect(await other.getByTestId("saved-views").inputValue()).toBe("");
    } finally {
      await other.close();
    }

    // Deleted from the menu while it is on screen.
    await page.getByTestId("saved-views").selectOption("__delete");
    await page.getByTestId("confirm-ok").click();
    await expect.poll(async () => (await api().views.list.query({ board })).views).toEqual([]);
    noPageErrors(b);
  });
});
