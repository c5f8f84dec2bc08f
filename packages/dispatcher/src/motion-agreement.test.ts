import { explainMotions } from "@kanban/kernel";
import { createTestBoard, rawSql, type TestBoard } from "@kanban/kernel/testing";
import { afterEach, describe, expect, it } from "vitest";
import { dispatchOnce } from "./dispatch-once.ts";

// The dispatcher's own skip reasons and `kanban why` come from one set of rules (the kernel's
// motion): for the tasks a real tick passes over, the tick's codes and sentences are the motion's.

let b: TestBoard | null = null;
afterEach(() => {
  b?.cleanup();
  b = null;
});

describe("the dispatcher's skips are the motion's reasons", () => {
  it("unassigned, not a runnable profile, per-profile cap and respawn guard: same code, same line", async () => {
    b = createTestBoard({ failureLimit: 5 });
    const board = b;
    const loose = (await board.createTask({ title: "loose" })).id;
    const ghost = (await board.createTask({ title: "ghost", assignee: "ghost" })).id;
    const first = (await board.createTask({ title: "first", assignee: "w", priority: 9 })).id;
    const capped = (await board.createTask({ title: "second", assignee: "w" })).id;
    const auth = (await board.createTask({ title: "auth", assignee: "v" })).id;
    await board.recordTaskFailure(auth, { error: "401 Unauthorized", outcome: "crashed" });
    const redo = (await board.createTask({ title: "redo", assignee: "v" })).id;
    await board.completeTask(redo, { result: "ok" });
    // Put back to ready with no reopen event (as a raw Hermes edit would): the guard holds it for the hour.
    await rawSql(board).run("UPDATE tasks SET status = 'ready' WHERE id = ?", redo);

    const known = ["w", "v"];
    let pid = 50_000;
    const r = await dispatchOnce(
      board,
      { maxInProgressPerProfile: 1, lock: false },
      {
        isSpawnable: (p) => known.includes(p),
        resolveWorkspace: (task) => ({ kind: "scratch", path: `${board.dir}/${task.id}`, branch: null }),
        spawnWorker: async () => pid++,
      },
    );
    expect(r.spawned.map((s) => s.task_id)).toEqual([first]);
    expect(r.skipped_unassigned).toEqual([loose]);
    expect(r.skipped_nonspawnable).toEqual([ghost]);
    expect(r.skipped_per_profile_capped).toEqual([{ task_id: capped, assignee: "w", current: 1 }]);
    expect(r.respawn_guarded.map((g) => g.task_id).sort()).toEqual([auth, redo].sort());

    // `kanban why` for the same tasks, with the host's facts as the API builds them.
    const motions = await explainMotions(board, [loose, ghost, capped, auth, redo], {
      knownProfiles: known,
      maxInProgressPerProfile: 1,
      dispatcher: { alive: true, interval_seconds: 60 },
    });
    expect(r.motions.map((m) => m.task_id).sort()).toEqual([loose, ghost, capped, auth, redo].sort());
    for (const m of r.motions) {
      const why = motions.get(m.task_id);
      expect({ task_id: m.task_id, code: why?.code, line: why?.line }).toEqual(m);
    }
    expect(Object.fromEntries(r.motions.map((m) => [m.task_id, m.code]))).toEqual({
      [loose]: "unassigned",
      [ghost]: "not_runnable_profile",
      [capped]: "profile_cap_full",
      [auth]: "respawn_guard",
      [redo]: "respawn_guard",
    });
  });
});
