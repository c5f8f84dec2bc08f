import { afterEach, describe, expect, it } from "vitest";
import { createTestBoard, type TestBoard } from "./testing/index.ts";

// tasks.claim makes its workspace between the claim's transaction and setWorkspace's; when the
// workspace cannot be made it gives the claim back with this verb.

const boards: TestBoard[] = [];
function board(): TestBoard {
  const b = createTestBoard();
  boards.push(b);
  return b;
}
afterEach(() => {
  for (const b of boards.splice(0)) b.cleanup();
});

describe("releaseUnstartedClaim", () => {
  it("puts the task back to ready, closes the run as reclaimed, and books no failure", async () => {
    const b = board();
    const t = await b.createTask({ title: "a", assignee: "w" });
    await b.recordTaskFailure(t.id, { error: "an earlier crash", outcome: "crashed" });
    const claimed = await b.claimTask(t.id, { claimer: "api:alice" });
    const runId = claimed?.current_run_id as number;
    expect(await b.releaseUnstartedClaim(t.id, runId, "workspace: not a git repository")).toBe(true);
    expect(await b.requireTask(t.id)).toMatchObject({
      status: "ready",
      claim_lock: null,
      claim_expires: null,
      current_run_id: null,
      consecutive_failures: 1,
      last_failure_error: "an earlier crash",
    });
    expect(await b.getRun(runId)).toMatchObject({ outcome: "reclaimed", error: "workspace: not a git repository" });
    const last = (await b.listEvents(t.id)).at(-1);
    expect(last).toMatchObject({ kind: "reclaimed", payload: { manual: false, prev_lock: "api:alice" } });
    // Claimable again at once.
    expect((await b.claimTask(t.id))?.status).toBe("running");
  });

  it("is fenced on the claim's run: a run that is no longer current changes nothing", async () => {
    const b = board();
    const t = await b.createTask({ title: "a", assignee: "w" });
    const first = (await b.claimTask(t.id))?.current_run_id as number;
    await b.reclaimTask(t.id);
    const second = await b.claimTask(t.id);
    expect(await b.releaseUnstartedClaim(t.id, first, "workspace: late")).toBe(false);
    expect(await b.requireTask(t.id)).toMatchObject({ status: "running", current_run_id: second?.current_run_id });
  });
});
