import { describe, expect, it } from "vitest";
import { DEFAULT_CRASH_GRACE_SECONDS } from "./constants.ts";
import type { TestBoard } from "./testing/index.ts";
import { useTestBoards } from "./testing/helpers.ts";

// Issue 17, "retries keep context": the run before the attempt being started, as a dispatcher hands it on.
const boards = useTestBoards();

async function claim(b: TestBoard, id: string, pid?: number): Promise<number> {
  const c = await b.claimTask(id);
  if (!c || c.current_run_id === null) throw new Error("claim failed");
  if (pid !== undefined) await b.recordSpawn(id, pid, c.current_run_id);
  return c.current_run_id;
}

describe("Board.previousRun", () => {
  it("is null on a first attempt (the open run being started is never its own previous run)", async () => {
    const b = boards();
    const t = await b.createTask({ title: "x", assignee: "w" });
    expect(await b.previousRun(t.id)).toBeNull();
    const run = await claim(b, t.id);
    expect(await b.previousRun(t.id, run)).toBeNull();
    expect(await b.previousRun(t.id)).toBeNull();
  });

  it("after a crash, the retry sees the crashed run's outcome and error, and no session", async () => {
    const b = boards({ failureLimit: 5 });
    const t = await b.createTask({ title: "x", assignee: "w" });
    const first = await claim(b, t.id, 4101);
    b.clock.advance(DEFAULT_CRASH_GRACE_SECONDS + 1);
    const out = await b.detectCrashedWorkers({
      exitStatus: (pid) => (pid === 4101 ? { code: 1, signal: null } : undefined),
    });
    expect(out.crashed).toEqual([t.id]);
    const second = await claim(b, t.id);
    expect(await b.previousRun(t.id, second)).toEqual({
      run_id: first,
      outcome: "crashed",
      summary: null,
      error: "pid 4101 exited with code 1",
      session_id: null,
    });
  });

  it("reads the session a worker recorded in its run's metadata (session_id, else Hermes' worker_session_id)", async () => {
    const b = boards();
    const t = await b.createTask({ title: "x", assignee: "w" });
    const first = await claim(b, t.id);
    await b.completeTask(t.id, { summary: "half done", metadata: { session_id: " sess-1 ", files: 2 } });
    await b.moveTask(t.id, { status: "ready" });
    const second = await claim(b, t.id);
    expect(await b.previousRun(t.id, second)).toEqual({
      run_id: first,
      outcome: "completed",
      summary: "half done",
      error: null,
      session_id: "sess-1",
    });

    await b.completeTask(t.id, { summary: "again", metadata: { session_id: "  ", worker_session_id: "hermes-7" } });
    await b.moveTask(t.id, { status: "ready" });
    const third = await claim(b, t.id);
    expect(await b.previousRun(t.id, third)).toMatchObject({ run_id: second, session_id: "hermes-7" });

    // A session that is not a string is no session.
    await b.completeTask(t.id, { summary: "third", metadata: { session_id: 42 } });
    await b.moveTask(t.id, { status: "ready" });
    const fourth = await claim(b, t.id);
    expect(await b.previousRun(t.id, fourth)).toMatchObject({ run_id: third, session_id: null });
  });

  it("takes the newest ended run, and skips the run named as the one being started", async () => {
    const b = boards();
    const t = await b.createTask({ title: "x", assignee: "w" });
    const first = await claim(b, t.id);
    await b.blockTask(t.id, { reason: "need a key" });
    await b.unblockTask(t.id);
    b.clock.advance(10);
    const second = await claim(b, t.id);
    await b.reclaimTask(t.id, { reason: "stuck" });
    expect(await b.previousRun(t.id)).toMatchObject({ run_id: second, outcome: "reclaimed" });
    // Named as the attempt being started, the newest ended run is passed over for the one before it.
    expect(await b.previousRun(t.id, second)).toMatchObject({ run_id: first, outcome: "blocked" });
  });

  it("never reads another task's runs", async () => {
    const b = boards();
    const a = await b.createTask({ title: "a", assignee: "w" });
    const other = await b.createTask({ title: "b", assignee: "w" });
    await claim(b, a.id);
    await b.blockTask(a.id, { reason: "r" });
    expect(await b.previousRun(other.id)).toBeNull();
  });
});
