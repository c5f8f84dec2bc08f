// PostgreSQL only: a claim by id (`kanban claim`, the API's tasks.claim, an agent naming its card)
// outside a transaction, on a board without budgets, is its glance and then one message
// (claim.ts claimTask, store/pg/folded-writes.ts claimFirstReadyAlone with the one id). A row the
// statement does not claim goes the full way, which must end as it always did.
import { afterEach, describe, expect, it, vi } from "vitest";
import { useTestBoards } from "./testing/helpers.ts";
import { watchMessages } from "./testing/pg-messages.ts";
import { boardInternals } from "./testing/index.ts";
import { holdWriterLock } from "./testing/writer-spies.ts";
import { expectClaimedAlike } from "./testing/same-claim.ts";

const board = useTestBoards();

afterEach(() => {
  vi.restoreAllMocks();
});

describe("a claim by id, as one message", () => {
  it("claims a clean ready task with its glance and one message, writing what the full way writes", async () => {
    const b = board();
    const full = (await b.createTask({ title: "full", assignee: "bench" })).id;
    const alone = (await b.createTask({ title: "alone", assignee: "bench" })).id;
    // Inside a transaction a claim goes the full way.
    const { ctx } = boardInternals(b);
    expect(await ctx.tx(async () => await b.claimTask(full, { claimer: "w:1" }))).not.toBeNull();
    const messages = watchMessages();
    const claimed = await b.claimTask(alone, { claimer: "w:1" });
    expect(messages.all()).toBe(2);
    expect(messages.alone()).toBe(1);
    await expectClaimedAlike(b, { full, alone }, claimed, "w:1");
  });

  it("a commented task is still one message; an unassigned one goes the full way, without a message spent first", async () => {
    const b = board();
    const commented = (await b.createTask({ title: "commented", assignee: "bench" })).id;
    await b.addComment(commented, "someone", "see https://github.com/acme/app/pull/12");
    const unassigned = (await b.createTask({ title: "nobody's" })).id;
    const messages = watchMessages();
    expect((await b.claimTask(commented, { claimer: "w:1" }))?.status).toBe("running");
    expect(messages.take()).toBe(2);
    const taken = await b.claimTask(unassigned, { claimer: "w:1" });
    // The glance saw it has no assignee: no message was sent that would only have let it go.
    expect(messages.alone()).toBe(0);
    expect(messages.all()).toBeGreaterThan(2);
    expect(taken).toMatchObject({ id: unassigned, status: "running", claim_lock: "w:1", assignee: null });
    expect((await b.listRuns(unassigned)).map((r) => r.status)).toEqual(["running"]);
  });

  it("waits for a row another writer holds and claims it, rather than calling the claim lost", async () => {
    const b = board();
    const id = (await b.createTask({ title: "held", assignee: "bench" })).id;
    const { ctx } = boardInternals(b);
    // Another shared writer (a comment's, an edit's) holds the row for a moment and lets it go unclaimed.
    const lockRow = async () => await ctx.get("SELECT id FROM tasks WHERE id = ? FOR UPDATE", id);
    const release = await holdWriterLock(ctx, lockRow, { shared: true });
    const claim = b.claimTask(id, { claimer: "w:1" });
    await new Promise((r) => setTimeout(r, 300));
    await release();
    expect(await claim).toMatchObject({ id, status: "running", claim_lock: "w:1" });
  });

  it("waits for a row another claimer holds and, once that claim commits, answers lost in the same message", async () => {
    const b = board();
    const id = (await b.createTask({ title: "contended", assignee: "bench" })).id;
    const { ctx } = boardInternals(b);
    // The other claim is made and held open: our glance still sees the task ready.
    const release = await holdWriterLock(ctx, async () => await b.claimTask(id, { claimer: "other:1" }), {
      shared: true,
    });
    const messages = watchMessages();
    const claim = b.claimTask(id, { claimer: "w:1" });
    await new Promise((r) => setTimeout(r, 300));
    await release();
    expect(await claim).toBeNull();
    // Our glance and our one message, and the other claim's COMMIT: nothing sent after ours.
    expect(messages.alone()).toBe(1);
    expect(messages.all()).toBe(3);
    expect(await b.requireTask(id)).toMatchObject({ status: "running", claim_lock: "other:1" });
    expect(await b.listRuns(id)).toHaveLength(1);
    expect((await b.listEvents(id)).filter((e) => e.kind === "claimed")).toHaveLength(1);
  });

  it("a claim already lost is its glance alone, and a task with an unfinished parent is refused as before", async () => {
    const b = board();
    const id = (await b.createTask({ title: "one", assignee: "bench" })).id;
    expect(await b.claimTask(id, { claimer: "w:1" })).not.toBeNull();
    const messages = watchMessages();
    expect(await b.claimTask(id, { claimer: "w:2" })).toBeNull();
    expect(messages.take()).toBe(1);
    const parent = (await b.createTask({ title: "parent", assignee: "bench" })).id;
    const child = (await b.createTask({ title: "child", assignee: "bench" })).id;
    // Made ready by hand while its parent is still open: the claim must refuse it, put it back in
    // todo and say why, as the full way does.
    await b.linkTasks(parent, child);
    await boardInternals(b).ctx.run("UPDATE tasks SET status = 'ready' WHERE id = ?", child);
    expect(await b.claimTask(child, { claimer: "w:1" })).toBeNull();
    expect((await b.requireTask(child)).status).toBe("todo");
    expect((await b.listEvents(child)).map((e) => e.kind)).toContain("claim_rejected");
    expect(await b.listRuns(child)).toEqual([]);
  });
});
