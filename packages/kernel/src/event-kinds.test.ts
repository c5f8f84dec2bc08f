import { afterEach, describe, expect, it } from "vitest";
import { isEventKind, RUN_OUTCOMES } from "./constants.ts";
import { boardInternals, createTestBoard, rawSql, type TestBoard } from "./testing/index.ts";
import { settleTestSchemas } from "./testing/test-store.ts";

describe("event kinds and run outcomes come from the shared contract", () => {
  let b: TestBoard;
  afterEach(async () => {
    b.cleanup();
    await settleTestSchemas();
  });

  it("a lifecycle writes only kinds the contract names; an unknown kind does not compile", async () => {
    b = createTestBoard();
    const parent = (await b.createTask({ title: "parent", assignee: "alice" })).id;
    const child = (await b.createTask({ title: "child", assignee: "bob" })).id;
    await b.linkTasks(parent, child);
    await b.claimTask(parent, { claimer: "w:1" });
    await b.heartbeatWorker(parent, { note: "working" });
    await b.addComment(parent, "alice", "halfway");
    await b.blockTask(parent, { reason: "need input" });
    await b.unblockTask(parent);
    const run = await b.claimTask(parent, { claimer: "w:2" });
    await b.completeTask(parent, { summary: "done", expected_run_id: run?.current_run_id });
    await b.archiveTask(child);

    const { ctx } = boardInternals(b);
    // @ts-expect-error appendEvent takes an EventKind: a made-up kind is a type error
    await ctx.tx(async () => await ctx.appendEvent(parent, "made_up_kind", null));
    const kinds = (await rawSql(b).all<{ kind: string }>("SELECT DISTINCT kind FROM task_events")).map((r) => r.kind);
    expect(kinds.length).toBeGreaterThan(8);
    expect(kinds.filter((k) => !isEventKind(k))).toEqual(["made_up_kind"]);

    const outcomes = (
      await rawSql(b).all<{ outcome: string }>("SELECT DISTINCT outcome FROM task_runs WHERE outcome IS NOT NULL")
    ).map((r) => r.outcome);
    expect(outcomes).toEqual(expect.arrayContaining(["blocked", "completed"]));
    expect(outcomes.filter((o) => !(RUN_OUTCOMES as readonly string[]).includes(o))).toEqual([]);
    // @ts-expect-error a run closes with an outcome the contract names
    await ctx.tx(async () => await ctx.endRun(parent, { status: "done", outcome: "made_up" }));
  });
});
