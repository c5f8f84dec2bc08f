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

let b: Browser;
beforeAll(async () => {
  b = await launch();
});
afterAll(async () => {
  await b?.close();
});

/** A card in the Review column: a person approves it, or sends it back with a reason, from the drawer. */
describe("the review lane in the drawer", () => {
  it("approves one card in review and requests changes on another", async () => {
    captureOnFailure(b, "review-lane-approve-and-request-changes");
    noPageErrors(b);
    const board = await freshBoard("review");
    const client = api();
    const handOff = async (title: string) => {
      const { task } = await client.tasks.create.mutate({ board, title, assignee: "coder" });
      const claimed = await client.tasks.claim.mutate({ board, id: task.id });
      await client.tasks.requestReview.mutate({
        board,
        id: task.id,
        expected_run_id: claimed.run_id,
        reviewer: "critic",
        summary: `${title}: ready for review`,
      });
      return task.id;
    };
    const good = await handOff("Parse the config");
    const weak = await handOff("Retry the upload");

    const page = await openBoard(b, board);
    await column(page, "review").getByTestId(`card-${good}`).waitFor();
    await column(page, "review").getByTestId(`card-${weak}`).waitFor();

    await card(page, good).click();
    const drawer = page.getByTestId("drawer");
    await drawer.getByTestId("action-approve").waitFor();
    await shot(page, "review-drawer");
    await drawer.getByTestId("action-approve").click();
    await column(page, "done").getByTestId(`card-${good}`).waitFor();
    const approved = (await client.tasks.get.query({ board, id: good })).task;
    expect(approved.status).toBe("done");
    await page.getByTestId("drawer-close").click();

    await card(page, weak).click();
    await page.getByTestId("drawer").getByTestId("action-request-changes").click();
    await page.getByTestId("confirm-reason").fill("Back off exponentially, not linearly");
    await page.getByTestId("confirm-ok").click();
    await column(page, "ready").getByTestId(`card-${weak}`).waitFor();
    const back = await waitUntil(
      async () => {
        const t = (await client.tasks.get.query({ board, id: weak })).task;
        return t.status === "ready" ? t : null;
      },
      5000,
      "the card to go back",
    );
    expect(back?.assignee).toBe("coder");
    const comments = (await client.comments.list.query({ board, task_id: weak })).comments.map((c) => c.body);
    expect(comments).toContain("CHANGES REQUESTED: Back off exponentially, not linearly");
  });
});
