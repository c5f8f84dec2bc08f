import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BLOCK_RECURRENCE_LIMIT } from "./block.ts";
import { createTestBoard, rawSql, type TestBoard } from "./testing/index.ts";
import { caught } from "./testing/helpers.ts";
import { settleTestSchemas } from "./testing/test-store.ts";

// Typed blocks (Hermes B `block_kind`, issue 17): a dependency wait parks the card in todo, and the
// same kind blocked twice in a row is a loop that goes to triage for a person.
let board: TestBoard;
beforeEach(() => {
  board = createTestBoard();
});
afterEach(async () => {
  board.cleanup();
  await settleTestSchemas();
});

async function claimedTask(): Promise<string> {
  const id = (await board.createTask({ title: "work", assignee: "coder" })).id;
  const claim = await board.claimTask(id);
  if (!claim) throw new Error("claim failed");
  return id;
}

async function reclaim(id: string): Promise<void> {
  await board.unblockTask(id);
  if (!(await board.claimTask(id))) throw new Error("reclaim failed");
}

async function blockColumns(id: string) {
  return await rawSql(board).get<{ block_kind: string | null; block_recurrences: number }>(
    "SELECT block_kind, block_recurrences FROM tasks WHERE id = ?",
    id,
  );
}

const kinds = async (id: string) => (await board.listEvents(id)).map((e) => e.kind);

describe("typed blocks", () => {
  it("dependency with an unfinished parent: todo, dependency_wait, no streak; the parent's completion moves it on", async () => {
    const parent = (await board.createTask({ title: "parent", assignee: "coder" })).id;
    const id = await claimedTask();
    // The running card depends on a card that is not done (a link made while it ran).
    await rawSql(board).run("INSERT INTO task_links (parent_id, child_id) VALUES (?, ?)", parent, id);
    const out = await board.blockTask(id, { reason: "needs the schema from the parent", kind: "dependency" });
    expect(out.task.status).toBe("todo");
    const wait = (await board.listEvents(id)).find((e) => e.kind === "dependency_wait");
    expect(wait?.payload).toEqual({ reason: "needs the schema from the parent", kind: "dependency" });
    expect(await kinds(id)).not.toContain("blocked");
    expect(await blockColumns(id)).toEqual({ block_kind: "dependency", block_recurrences: 0 });
    await board.claimTask(parent);
    await board.completeTask(parent, { summary: "schema ready" });
    await board.recomputeReady();
    expect((await board.requireTask(id)).status).toBe("ready");
  });

  it("dependency with no unfinished parent is a question for a person: blocked as needs_input", async () => {
    const id = await claimedTask();
    const out = await board.blockTask(id, { reason: "which parent?", kind: "dependency" });
    expect(out.task.status).toBe("blocked");
    const blocked = (await board.listEvents(id)).find((e) => e.kind === "blocked");
    expect(blocked?.payload).toEqual({ reason: "which parent?", kind: "needs_input", recurrences: 1 });
    expect(await blockColumns(id)).toEqual({ block_kind: "needs_input", block_recurrences: 1 });
  });

  it(`the same kind ${BLOCK_RECURRENCE_LIMIT} times in a row goes to triage with block_loop_detected; an unblock does not reset it`, async () => {
    const id = await claimedTask();
    expect((await board.blockTask(id, { reason: "no API key", kind: "needs_input" })).task.status).toBe("blocked");
    await reclaim(id);
    const second = await board.blockTask(id, { reason: "still no API key", kind: "needs_input" });
    expect(second.task.status).toBe("triage");
    const loop = (await board.listEvents(id)).find((e) => e.kind === "block_loop_detected");
    expect(loop?.payload).toEqual({
      reason: "still no API key",
      kind: "needs_input",
      recurrences: 2,
      limit: BLOCK_RECURRENCE_LIMIT,
      source_status: "running",
    });
    expect(await kinds(id)).not.toContain("gave_up");
    expect(await blockColumns(id)).toEqual({ block_kind: "needs_input", block_recurrences: 2 });
  });

  it("another kind starts the streak again, and an untyped block counts nothing (Hermes A)", async () => {
    const id = await claimedTask();
    await board.blockTask(id, { reason: "a", kind: "needs_input" });
    await reclaim(id);
    expect((await board.blockTask(id, { reason: "b", kind: "capability" })).task.status).toBe("blocked");
    expect(await blockColumns(id)).toEqual({ block_kind: "capability", block_recurrences: 1 });
    await reclaim(id);
    expect((await board.blockTask(id, { reason: "c" })).task.status).toBe("blocked");
    await reclaim(id);
    expect((await board.blockTask(id, { reason: "d" })).task.status).toBe("blocked");
    // Untyped blocks leave the typed streak as it was.
    expect(await blockColumns(id)).toEqual({ block_kind: "capability", block_recurrences: 1 });
  });

  it("a completion ends the streak", async () => {
    const id = await claimedTask();
    await board.blockTask(id, { reason: "a", kind: "transient" });
    await reclaim(id);
    await board.completeTask(id, { summary: "done after all" });
    expect(await blockColumns(id)).toEqual({ block_kind: null, block_recurrences: 0 });
  });

  it("an unknown kind is refused with a typed error and changes nothing", async () => {
    const id = await claimedTask();
    const err = await caught(() => board.blockTask(id, { reason: "x", kind: "bored" }));
    expect(err).toMatchObject({ code: "INVALID_INPUT" });
    expect((err as Error).message).toContain("dependency, needs_input, capability, transient");
    expect((await board.requireTask(id)).status).toBe("running");
  });
});
