import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  api,
  captureOnFailure,
  type Browser,
  card,
  column,
  freshBoard,
  launch,
  noPageErrors,
  openBoard,
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

describe("the task drawer", () => {
  it("opens from a card and by URL, edits title, assignee, priority and body (sanitised markdown), and comments", async () => {
    captureOnFailure(b, "opens-from-a-card-and-by-url-edits-title");
    const board = await freshBoard("drawer");
    const t = (await api().tasks.create.mutate({ board, title: "Draft the release notes", body: "first draft" })).task;
    const page = await openBoard(b, board);
    await card(page, t.id).click();
    const drawer = page.getByTestId("drawer");
    await drawer.waitFor();
    expect(new URL(page.url()).searchParams.get("task")).toBe(t.id);

    await page.getByTestId("drawer-title").click();
    await page.getByTestId("drawer-title-input").fill("Write the release notes");
    await page.getByTestId("drawer-title-input").press("Enter");
    await card(page, t.id).getByText("Write the release notes").waitFor();

    await page.getByTestId("drawer-assignee").selectOption("writer");
    await card(page, t.id).getByTestId("card-assignee").getByText("@writer").waitFor();
    await page.getByTestId("drawer-priority").fill("5");
    await page.getByTestId("drawer-priority").press("Enter");
    await card(page, t.id).getByText("P5").waitFor();
    await page.getByTestId("drawer-model").fill("model-x");
    await page.getByTestId("drawer-model").press("Enter");
    await waitUntil(
      async () => (await api().tasks.get.query({ board, id: t.id })).task.model_override === "model-x",
      5000,
      "the model override",
    );

    await page.getByTestId("edit-body").click();
    await page
      .getByTestId("body-input")
      .fill(
        "See [the spec](https://example.org/spec) and [bad](javascript:alert(1)).\n\n<img src=x onerror=alert(1)><b>raw</b>\n\n- one\n- two",
      );
    await page.getByTestId("save-body").click();
    const body = page.getByTestId("body-text");
    await body.waitFor();
    const link = body.locator("a", { hasText: "the spec" });
    expect(await link.getAttribute("href")).toBe("https://example.org/spec");
    expect(await link.getAttribute("rel")).toBe("noopener noreferrer");
    expect(await link.getAttribute("target")).toBe("_blank");
    expect(await body.locator("a", { hasText: "bad" }).count()).toBe(0);
    expect(await body.locator("img, b, script").count()).toBe(0);
    expect(await body.locator("li").count()).toBe(2);

    // The first comment asks once for a display name, which then signs every comment.
    await page.getByTestId("comment-input").fill("Ready for a **review**");
    await page.getByTestId("comment-input").press("Enter");
    const ask = page.getByTestId("prompt-dialog");
    await ask.getByText("Who is commenting?").waitFor();
    await shot(page, "display-name");
    await page.getByTestId("prompt-input").fill("  Ada  Lovelace ");
    await page.getByTestId("prompt-input").press("Enter");
    await drawer.getByTestId("comments").locator("strong", { hasText: "review" }).waitFor();
    expect(await page.getByTestId("comment-input").inputValue()).toBe("");
    expect(await page.getByTestId("comment-author").textContent()).toBe("Ada Lovelace");
    // It can be changed; the next comment carries the new name, and nothing asks again.
    await page.getByTestId("comment-author-change").click();
    await page.getByTestId("prompt-input").fill("Grace");
    await page.getByTestId("prompt-ok").click();
    await page.getByTestId("comment-input").fill("Second look done");
    await page.getByTestId("comment-input").press("Enter");
    await drawer.getByTestId("comments").getByText("Second look done").waitFor();
    expect(await page.getByTestId("prompt-dialog").count()).toBe(0);

    // The drawer lists a comment as soon as it is sent; the server may commit it a moment later.
    let detail = await api().tasks.get.query({ board, id: t.id });
    for (let i = 0; detail.comments.length < 2 && i < 100; i++) {
      await new Promise((r) => setTimeout(r, 100));
      detail = await api().tasks.get.query({ board, id: t.id });
    }
    expect(detail.task).toMatchObject({ title: "Write the release notes", assignee: "writer", priority: 5 });
    expect(detail.task.body).toContain("[the spec](https://example.org/spec)");
    expect(detail.comments.map((c) => [c.author, c.body])).toEqual([
      ["Ada Lovelace", "Ready for a **review**"],
      ["Grace", "Second look done"],
    ]);
    await shot(page, "drawer");

    // The URL alone opens the same drawer (a link someone pasted).
    await page.goto(`${page.url().split("?")[0]}?board=${board}&task=${t.id}`);
    await page.getByTestId("drawer-title").getByText("Write the release notes").waitFor();
    await page.getByTestId("drawer-close").click();
    await page.getByTestId("drawer").waitFor({ state: "detached" });
    noPageErrors(b);
  });

  it("asks why again when the task changes while the drawer's first why answer is still on its way", async () => {
    captureOnFailure(b, "why-asked-again");
    const board = await freshBoard("why-again");
    const t = (await api().tasks.create.mutate({ board, title: "Wait for legal" })).task;
    await api().tasks.block.mutate({ board, id: t.id, reason: "waiting on legal" });
    const page = await openBoard(b, board);
    // The page says it is hidden, so the drawer's 5 s poll asks nothing: any answer after the first
    // comes from the drawer noticing the change.
    await page.evaluate(() => {
      Object.defineProperty(document, "visibilityState", { value: "hidden", configurable: true });
      document.dispatchEvent(new Event("visibilitychange", { bubbles: true }));
    });
    // The first tasks.why is answered by the server at once, and its answer held back here.
    let release: (() => void) | null = null;
    const held = new Promise<void>((resolve) => {
      void page.route(
        (url) => url.pathname.includes("tasks.why"),
        async (route) => {
          if (release) return route.continue();
          const response = await route.fetch();
          release = () => void route.fulfill({ response });
          resolve();
        },
      );
    });
    await card(page, t.id).click();
    const drawer = page.getByTestId("drawer");
    await drawer.waitFor();
    await held;
    // The task changes while that answer is on its way, and the drawer shows the new version.
    await api().tasks.unblock.mutate({ board, id: t.id });
    await expect.poll(() => drawer.getByTestId("drawer-status").textContent(), { timeout: 10_000 }).not.toBe("Blocked");
    (release as (() => void) | null)?.();
    // The old answer arrives (made before the unblock), and is followed by one made after it.
    const fresh = await api().tasks.why.query({ board, id: t.id });
    expect(fresh.code).not.toBe("blocked");
    await expect
      .poll(() => drawer.getByTestId("why-panel").getAttribute("data-code"), { timeout: 10_000 })
      .toBe(fresh.code);
    expect(await drawer.getByTestId("why-line").textContent()).not.toContain("waiting on legal");
    await page.unrouteAll({ behavior: "ignoreErrors" });
    await page.evaluate(() => {
      Object.defineProperty(document, "visibilityState", { value: "visible", configurable: true });
      document.dispatchEvent(new Event("visibilitychange", { bubbles: true }));
    });
    noPageErrors(b);
  });

  it("renders GitHub-flavoured tables and task lists in a card body, still without raw HTML", async () => {
    captureOnFailure(b, "gfm");
    const board = await freshBoard("gfm");
    const body = [
      "Plan:",
      "",
      "| step | owner | state |",
      "| --- | --- | --- |",
      "| schema | coder | done |",
      "| exporter | writer | <b>next</b> |",
      "",
      "- [x] design",
      "- [ ] ship",
      "",
      "~~old idea~~",
    ].join("\n");
    const t = (await api().tasks.create.mutate({ board, title: "Export plan", body })).task;
    const page = await openBoard(b, board, `&task=${t.id}`);
    const text = page.getByTestId("body-text");
    await text.locator("table").waitFor();
    expect(await text.locator("th").allTextContents()).toEqual(["step", "owner", "state"]);
    expect(await text.locator("tbody tr").count()).toBe(2);
    expect(await text.locator("tbody tr").nth(1).locator("td").allTextContents()).toEqual([
      "exporter",
      "writer",
      "next",
    ]);
    const boxes = text.locator('li input[type="checkbox"]');
    expect(await boxes.count()).toBe(2);
    expect(await boxes.nth(0).isChecked()).toBe(true);
    expect(await boxes.nth(1).isChecked()).toBe(false);
    expect(await boxes.nth(0).isDisabled()).toBe(true);
    expect(await text.locator("del").textContent()).toBe("old idea");
    expect(await text.locator("b, script, img").count()).toBe(0);
    await shot(page, "markdown-gfm");
    noPageErrors(b);
  });

  it("adds and removes parents and children, and refuses a cycle with the server's reason", async () => {
    captureOnFailure(b, "adds-and-removes-parents-and-children-an");
    const board = await freshBoard("deps");
    const a = (await api().tasks.create.mutate({ board, title: "Parent A" })).task;
    const c = (await api().tasks.create.mutate({ board, title: "Task C" })).task;
    const d = (await api().tasks.create.mutate({ board, title: "Child D" })).task;
    const page = await openBoard(b, board, `&task=${c.id}`);
    const drawer = page.getByTestId("drawer");
    await drawer.getByTestId("drawer-title").waitFor();

    await page.getByTestId("add-parent-input").fill(a.id);
    await page.getByTestId("add-parent").click();
    await drawer.getByTestId(`parent-${a.id}`).waitFor();
    // With an unfinished parent, C leaves Ready for Todo.
    await column(page, "todo").getByTestId(`card-${c.id}`).waitFor();

    await page.getByTestId("add-child-input").fill(d.id);
    await page.getByTestId("add-child-input").press("Enter");
    await drawer.getByTestId(`child-${d.id}`).waitFor();

    // A → C → D; making D a parent of A... through C: adding A as C's child closes a loop.
    await page.getByTestId("add-child-input").fill(a.id);
    await page.getByTestId("add-child").click();
    const error = page.getByTestId("deps-error");
    await error.waitFor();
    expect((await error.textContent())?.toLowerCase()).toContain("cycle");
    await shot(page, "dependencies-cycle");
    const links = (await api().tasks.get.query({ board, id: c.id })).links;
    expect(links.parents.map((l) => l.id)).toEqual([a.id]);
    expect(links.children.map((l) => l.id)).toEqual([d.id]);

    await page.getByTestId(`remove-parent-${a.id}`).click();
    await drawer.getByTestId(`parent-${a.id}`).waitFor({ state: "detached" });
    await page.getByTestId(`remove-child-${d.id}`).click();
    await drawer.getByTestId(`child-${d.id}`).waitFor({ state: "detached" });
    await waitUntil(
      async () => {
        const l = (await api().tasks.get.query({ board, id: c.id })).links;
        return l.parents.length === 0 && l.children.length === 0;
      },
      5000,
      "the links to be gone",
    );
    // Without its parent C is ready again.
    await column(page, "ready").getByTestId(`card-${c.id}`).waitFor();
    noPageErrors(b);
  });
});
