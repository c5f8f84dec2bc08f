import { describe, expect, it } from "vitest";
import { KernelError } from "./errors.ts";
import { caught, useTestBoards } from "./testing/helpers.ts";
import { rawSql, type TestBoard } from "./testing/index.ts";

// Fenced terminal calls re-sent by a remote worker's outbox (issue 15): a re-send of the call that
// settled its run is replayed (same answer, nothing written); a call for a run that was taken away
// is refused with STALE_RUN and recorded once as a `late_report`.

const board = useTestBoards();

async function claimed(b: TestBoard, claimer = "kh-00000000000000a1:7") {
  const t = await b.createTask({ title: "t", assignee: "alice" });
  const c = await b.claimTask(t.id, { claimer });
  if (!c?.current_run_id) throw new Error("claim failed");
  return { id: t.id, run: c.current_run_id };
}

const everything = async (b: TestBoard, id: string) => {
  const sql = rawSql(b);
  return {
    task: await sql.get("SELECT * FROM tasks WHERE id = ?", id),
    runs: await sql.all("SELECT * FROM task_runs WHERE task_id = ? ORDER BY id", id),
    events: await sql.all("SELECT * FROM task_events WHERE task_id = ? ORDER BY id", id),
  };
};

const lateReports = async (b: TestBoard, id: string) =>
  (await b.listEvents(id)).filter((e) => e.kind === "late_report");

describe("replay: the same terminal call twice is one call", () => {
  it("a re-sent completion returns the first answer with replayed: true and writes nothing", async () => {
    const b = board();
    const { id, run } = await claimed(b);
    const first = await b.completeTask(id, { result: "built", summary: "ok", expected_run_id: run });
    expect(first.replayed).toBeUndefined();
    const before = await everything(b, id);
    b.clock.advance(30);
    const again = await b.completeTask(id, { result: "built", summary: "ok", expected_run_id: run });
    expect(again).toEqual({ task: first.task, run_id: run, terminate: null, replayed: true });
    expect(await everything(b, id)).toEqual(before);
  });

  it("a re-sent block returns the first answer with replayed: true and writes nothing", async () => {
    const b = board();
    const { id, run } = await claimed(b);
    const first = await b.blockTask(id, { reason: "need a key", expected_run_id: run });
    const before = await everything(b, id);
    const again = await b.blockTask(id, { reason: "need a key", expected_run_id: run });
    expect(again).toEqual({ task: first.task, run_id: run, terminate: null, replayed: true });
    expect(await everything(b, id)).toEqual(before);
  });

  it("a block re-sent for a run that was completed is not a replay: late report and STALE_RUN", async () => {
    const b = board();
    const { id, run } = await claimed(b);
    await b.completeTask(id, { result: "done", expected_run_id: run });
    const err = await caught(() => b.blockTask(id, { reason: "stuck", expected_run_id: run }));
    expect(err.code).toBe("STALE_RUN");
    expect((await lateReports(b, id)).map((e) => e.payload)).toEqual([
      {
        run_id: run,
        verb: "block",
        summary: null,
        reason: "stuck",
        run_outcome: "completed",
        host_id: "kh-00000000000000a1",
      },
    ]);
  });
});

describe("late reports: a reclaimed run's terminal call is refused and recorded", () => {
  it("a late completion: STALE_RUN, one late_report kept after the refusal, the task untouched", async () => {
    const b = board();
    const { id, run } = await claimed(b);
    await b.reclaimTask(id, { reason: "host silent" });
    const taskBefore = await b.requireTask(id);
    let thrown: unknown;
    try {
      await b.completeTask(id, { result: "late result", summary: "it worked, late", expected_run_id: run });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(KernelError);
    expect((thrown as KernelError).code).toBe("STALE_RUN");
    const reports = await lateReports(b, id);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({
      run_id: run,
      payload: {
        run_id: run,
        verb: "complete",
        summary: "it worked, late",
        reason: null,
        run_outcome: "reclaimed",
        host_id: "kh-00000000000000a1",
      },
    });
    expect(await b.requireTask(id)).toEqual(taskBefore);
  });

  it("is idempotent per (run, verb): re-sends write nothing new; the other verb gets its own", async () => {
    const b = board();
    const { id, run } = await claimed(b);
    await b.reclaimTask(id);
    for (let i = 0; i < 3; i++) {
      b.clock.advance(10);
      expect((await caught(() => b.completeTask(id, { summary: "late", expected_run_id: run }))).code).toBe(
        "STALE_RUN",
      );
    }
    expect((await caught(() => b.blockTask(id, { reason: "late", expected_run_id: run }))).code).toBe("STALE_RUN");
    expect((await caught(() => b.blockTask(id, { reason: "late", expected_run_id: run }))).code).toBe("STALE_RUN");
    expect((await lateReports(b, id)).map((e) => e.payload?.verb)).toEqual(["complete", "block"]);
  });

  it("while another run holds the task, the late call never touches it; a long summary is cut and flagged", async () => {
    const b = board();
    const { id, run } = await claimed(b);
    await b.reclaimTask(id);
    const newer = await b.claimTask(id, { claimer: "kh-00000000000000b2:9" });
    const err = await caught(() =>
      b.completeTask(id, { summary: "x".repeat(5000), created_cards: ["t_ffffffff"], expected_run_id: run }),
    );
    expect(err.code).toBe("STALE_RUN");
    const [report] = await lateReports(b, id);
    expect(report?.payload).toMatchObject({ truncated: true, run_outcome: "reclaimed" });
    expect(String(report?.payload?.summary)).toHaveLength(4000);
    // No hallucination audit either: the fence refused the call before the card gate.
    expect((await b.listEvents(id)).map((e) => e.kind)).not.toContain("completion_blocked_hallucination");
    expect(await b.requireTask(id)).toMatchObject({ status: "running", current_run_id: newer?.current_run_id });
  });

  it("a run of another task, or no run at all, is refused with nothing recorded", async () => {
    const b = board();
    const a = await claimed(b);
    const other = await claimed(b);
    expect((await caught(() => b.completeTask(a.id, { summary: "x", expected_run_id: other.run }))).code).toBe(
      "STALE_RUN",
    );
    expect((await caught(() => b.completeTask(a.id, { summary: "x", expected_run_id: 987_654 }))).code).toBe(
      "STALE_RUN",
    );
    expect(await lateReports(b, a.id)).toEqual([]);
    expect(await lateReports(b, other.id)).toEqual([]);
  });
});
