import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createTestApi, type TestApi } from "../../testing.ts";

// `warnings` has one meaning (issue 13): what tasks.list and tasks.get say about a task is what the
// answers of claim, complete and reclaim say about it at that moment (they used to say null).

let t: TestApi;
beforeEach(() => {
  t = createTestApi();
});
afterEach(() => t.cleanup());

/** The task's warnings as tasks.list and tasks.get give them now. */
async function listed(id: string) {
  const fromList = (await t.api.tasks.list({})).tasks.find((task) => task.id === id)?.warnings;
  const fromGet = (await t.api.tasks.get({ id })).task.warnings;
  expect(fromGet).toEqual(fromList);
  return fromList;
}

describe("claim, complete and reclaim answer the task's warnings", () => {
  it("the same summary of diagnostics as tasks.list and tasks.get, not null", async () => {
    const { task } = await t.api.tasks.create({ title: "x", assignee: "coder" });
    const first = await t.api.tasks.claim({ id: task.id });
    // A completion naming a card that does not exist is refused and leaves a diagnostic behind.
    await expect(
      t.api.tasks.complete({ id: task.id, created_cards: ["t_deadbeef"], expected_run_id: first.run_id }),
    ).rejects.toMatchObject({ code: "PRECONDITION_FAILED" });

    const reclaimed = await t.api.tasks.reclaim({ id: task.id });
    expect(reclaimed.task.warnings).toMatchObject({ kinds: { hallucinated_cards: 1 } });
    expect(reclaimed.task.warnings).toEqual(await listed(task.id));

    const claimed = await t.api.tasks.claim({ id: task.id });
    expect(claimed.task.warnings).toMatchObject({ kinds: { hallucinated_cards: 1 } });
    expect(claimed.task.warnings).toEqual(await listed(task.id));

    // A clean completion supersedes the refused one; its summary names an id that is nowhere.
    const done = await t.api.tasks.complete({
      id: task.id,
      summary: "see t_0badc0de for the rest",
      expected_run_id: claimed.run_id,
    });
    expect(done.task.warnings).toMatchObject({ kinds: { prose_phantom_refs: 1 } });
    expect(done.task.warnings?.kinds).not.toHaveProperty("hallucinated_cards");
    expect(done.task.warnings).toEqual(await listed(task.id));
  });

  it("null when the task has no diagnostic, as tasks.get says", async () => {
    const { task } = await t.api.tasks.create({ title: "clean", assignee: "coder" });
    const claimed = await t.api.tasks.claim({ id: task.id });
    expect(claimed.task.warnings).toBeNull();
    const done = await t.api.tasks.complete({ id: task.id, summary: "ok", expected_run_id: claimed.run_id });
    expect(done.task.warnings).toBeNull();
    expect(await listed(task.id)).toBeNull();
  });
});
