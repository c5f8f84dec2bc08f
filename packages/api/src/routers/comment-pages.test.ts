import { boardInternals } from "@kanban/kernel/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { codeOf, createTestApi, type TestApi } from "../testing.ts";

let t: TestApi;
beforeEach(() => {
  t = createTestApi();
});
afterEach(() => t.cleanup());

describe("a long discussion is paged", () => {
  it("the drawer gets the newest 50 of 1,000 comments and the total; comments.list pages back to the first", async () => {
    const { task } = await t.api.tasks.create({ title: "chatty" });
    const board = t.board();
    await boardInternals(board).ctx.tx(async () => {
      for (let i = 0; i < 1000; i++) await board.addComment(task.id, "bot", `comment ${i}`);
    });
    const detail = await t.api.tasks.get({ id: task.id });
    expect(detail.comments_total).toBe(1000);
    expect(detail.comments.map((c) => c.body)).toEqual(Array.from({ length: 50 }, (_, i) => `comment ${950 + i}`));

    const seen = [...detail.comments];
    let before = detail.comments[0]?.id ?? null;
    let pages = 0;
    for (;;) {
      const page = await t.api.comments.list({ task_id: task.id, before, limit: 200 });
      seen.unshift(...page.comments);
      pages++;
      before = page.comments[0]?.id ?? null;
      if (!page.more) break;
    }
    expect(pages).toBe(5);
    expect(seen.map((c) => c.body)).toEqual(Array.from({ length: 1000 }, (_, i) => `comment ${i}`));
    // Without a limit it is every comment, as before.
    expect((await t.api.comments.list({ task_id: task.id })).comments).toHaveLength(1000);
    expect(await codeOf(t.api.comments.list({ task_id: task.id, before: 5 }))).toBe("BAD_REQUEST");
    expect(await codeOf(t.api.comments.list({ task_id: task.id, limit: 201 }))).toBe("BAD_REQUEST");
  });

  it("a short discussion comes whole, with its total", async () => {
    const { task } = await t.api.tasks.create({ title: "quiet" });
    await t.api.comments.add({ task_id: task.id, body: "one" });
    const detail = await t.api.tasks.get({ id: task.id });
    expect(detail.comments.map((c) => c.body)).toEqual(["one"]);
    expect(detail.comments_total).toBe(1);
    expect(await t.api.comments.list({ task_id: task.id, limit: 10 })).toMatchObject({ more: false });
  });
});
