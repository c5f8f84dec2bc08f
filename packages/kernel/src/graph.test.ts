import { describe, expect, it } from "vitest";
import { rawSql, type TestBoard } from "./testing/index.ts";
import { kernelError, mapInOrder, useTestBoards } from "./testing/helpers.ts";

// Spec §2.2 (assign/reassign), §2.3 (link/unlink), §2.4 (recompute_ready, promote_task), §1.5;
// Hermes tests: test_kanban_db.py, test_kanban_core_functionality.py, test_kanban_promote.py,
// test_kanban_blocked_sticky.py.

const board = useTestBoards();
const setStatus = async (b: TestBoard, id: string, status: string) =>
  await rawSql(b).run("UPDATE tasks SET status = ? WHERE id = ?", status, id);
const setFailures = async (b: TestBoard, id: string, n: number, error: string | null = "boom") =>
  await rawSql(b).run("UPDATE tasks SET consecutive_failures = ?, last_failure_error = ? WHERE id = ?", n, error, id);
const status = async (b: TestBoard, id: string) => (await b.getTask(id))?.status;
const kinds = async (b: TestBoard, id: string) => (await b.listEvents(id)).map((e) => e.kind);
const lastEvent = async (b: TestBoard, id: string) => (await b.listEvents(id)).at(-1);

describe("assign", () => {
  it("assign: refuses a running, claimed task", async () => {
    const b = board();
    const t = await b.createTask({ title: "x", assignee: "alice" });
    await b.claimTask(t.id);
    await expect(b.assignTask(t.id, "bob")).rejects.toThrow(
      kernelError(
        "WRONG_STATE",
        `cannot reassign ${t.id}: currently running (claimed). Wait for completion or reclaim the stale lock first.`,
      ),
    );
    expect((await b.getTask(t.id))?.assignee).toBe("alice");
    expect(await kinds(b, t.id)).toEqual(["created", "claimed"]);
  });

  it("assign: reassigns a task that is not running, with an assigned event naming the previous assignee", async () => {
    const b = board();
    const t = await b.createTask({ title: "x", assignee: "alice" });
    expect(await b.assignTask(t.id, "Bob")).toBe(true);
    expect((await b.getTask(t.id))?.assignee).toBe("bob");
    expect(await lastEvent(b, t.id)).toMatchObject({
      kind: "assigned",
      payload: { assignee: "bob", from: "alice" },
      run_id: null,
    });
  });

  it("assign: null unassigns", async () => {
    const b = board();
    const t = await b.createTask({ title: "x", assignee: "alice" });
    expect(await b.assignTask(t.id, null)).toBe(true);
    expect((await b.getTask(t.id))?.assignee).toBeNull();
    expect((await lastEvent(b, t.id))?.payload).toEqual({ assignee: null, from: "alice" });
  });

  it("assign: an unknown task returns false", async () => {
    expect(await board().assignTask("t_missing0", "bob")).toBe(false);
  });

  it("assign: a real change of assignee resets the failure streak for the new profile", async () => {
    const b = board();
    const t = await b.createTask({ title: "x", assignee: "alice" });
    await setFailures(b, t.id, 1, "spawn failed: no such binary");
    await b.assignTask(t.id, "bob");
    expect(await b.getTask(t.id)).toMatchObject({ consecutive_failures: 0, last_failure_error: null });
  });

  it("assign: the same profile (in any case) keeps the failure streak and writes no event", async () => {
    const b = board();
    const t = await b.createTask({ title: "x", assignee: "alice" });
    await setFailures(b, t.id, 1);
    expect(await b.assignTask(t.id, " ALICE ")).toBe(true);
    expect(await b.getTask(t.id)).toMatchObject({
      assignee: "alice",
      consecutive_failures: 1,
      last_failure_error: "boom",
    });
    expect(await kinds(b, t.id)).toEqual(["created"]);
  });
});

describe("reassign", () => {
  it("reassign: a running task without reclaim_first is refused (ok false) and keeps running", async () => {
    const b = board();
    const t = await b.createTask({ title: "x", assignee: "alice" });
    await b.claimTask(t.id);
    expect(await b.reassignTask(t.id, "bob")).toEqual({ ok: false, terminate: null });
    expect(await b.getTask(t.id)).toMatchObject({ status: "running", assignee: "alice" });
  });

  it("reassign: reclaim_first reclaims a running task, closes its run and switches profile", async () => {
    const b = board();
    const t = await b.createTask({ title: "x", assignee: "alice" });
    const claimed = await b.claimTask(t.id);
    await setFailures(b, t.id, 1);
    const r = await b.reassignTask(t.id, "bob", { reclaimFirst: true });
    expect(r.ok).toBe(true);
    expect(await b.getTask(t.id)).toMatchObject({
      status: "ready",
      assignee: "bob",
      claim_lock: null,
      current_run_id: null,
      consecutive_failures: 0,
    });
    expect(await b.listRuns(t.id)).toMatchObject([
      { id: claimed?.current_run_id, status: "reclaimed", outcome: "reclaimed", profile: "alice" },
    ]);
    const events = await b.listEvents(t.id);
    expect(events.map((e) => e.kind)).toEqual(["created", "claimed", "reclaimed", "assigned"]);
    expect(events[2]?.payload).toMatchObject({ manual: true, reason: "reassign", prev_lock: "testhost:4242" });
    expect(events[3]?.payload).toEqual({ assignee: "bob", from: "alice" });
  });

  it("reassign: reclaim_first passes the caller's reason to the reclaim", async () => {
    const b = board();
    const t = await b.createTask({ title: "x", assignee: "alice" });
    await b.claimTask(t.id);
    await b.reassignTask(t.id, "bob", { reclaimFirst: true, reason: "alice is stuck" });
    expect((await b.listEvents(t.id)).find((e) => e.kind === "reclaimed")?.payload?.reason).toBe("alice is stuck");
  });

  it("reassign: reclaim_first on a task with nothing to reclaim just reassigns", async () => {
    const b = board();
    const t = await b.createTask({ title: "x", assignee: "alice" });
    expect(await b.reassignTask(t.id, "bob", { reclaimFirst: true })).toEqual({ ok: true, terminate: null });
    expect(await b.getTask(t.id)).toMatchObject({ status: "ready", assignee: "bob" });
    expect(await kinds(b, t.id)).toEqual(["created", "assigned"]);
  });

  it("reassign: an unknown task is NOT_FOUND", async () => {
    await expect(board().reassignTask("t_missing0", "bob")).rejects.toThrow(
      kernelError("NOT_FOUND", "task t_missing0 not found"),
    );
  });
});

describe("link", () => {
  it("link: refuses a self-link", async () => {
    const b = board();
    const t = await b.createTask({ title: "x" });
    await expect(b.linkTasks(t.id, t.id)).rejects.toThrow(
      kernelError("INVALID_INPUT", "a task cannot depend on itself"),
    );
  });

  it("link: refuses unknown tasks, naming them", async () => {
    const b = board();
    const t = await b.createTask({ title: "x" });
    await expect(b.linkTasks("t_nope0001", t.id)).rejects.toThrow(
      kernelError("INVALID_INPUT", "unknown task(s): t_nope0001"),
    );
    await expect(b.linkTasks("t_nope0001", "t_nope0002")).rejects.toThrow(
      kernelError("INVALID_INPUT", "unknown task(s): t_nope0001, t_nope0002"),
    );
  });

  it("link: refuses an edge that would close a cycle, directly or through a chain", async () => {
    const b = board();
    const a = await b.createTask({ title: "a" });
    const c = await b.createTask({ title: "c", parents: [a.id] });
    const d = await b.createTask({ title: "d", parents: [c.id] });
    await expect(b.linkTasks(c.id, a.id)).rejects.toThrow(
      kernelError("INVALID_INPUT", `linking ${c.id} -> ${a.id} would create a cycle`),
    );
    await expect(b.linkTasks(d.id, a.id)).rejects.toThrow(
      kernelError("INVALID_INPUT", `linking ${d.id} -> ${a.id} would create a cycle`),
    );
    expect(await b.parentIds(a.id)).toEqual([]);
  });

  it("link: a ready child gets an unfinished parent: demoted to todo, linked event on the child", async () => {
    const b = board();
    const p = await b.createTask({ title: "parent" });
    const c = await b.createTask({ title: "child" });
    expect(await b.linkTasks(p.id, c.id)).toEqual({ demoted: true });
    expect(await status(b, c.id)).toBe("todo");
    expect(await b.parentIds(c.id)).toEqual([p.id]);
    expect(await lastEvent(b, c.id)).toMatchObject({ kind: "linked", payload: { parent: p.id, child: c.id } });
    expect(await kinds(b, p.id)).toEqual(["created"]);
  });

  it("link: a done parent leaves a ready child ready", async () => {
    const b = board();
    const p = await b.createTask({ title: "parent" });
    await b.completeTask(p.id);
    const c = await b.createTask({ title: "child" });
    expect(await b.linkTasks(p.id, c.id)).toEqual({ demoted: false });
    expect(await status(b, c.id)).toBe("ready");
  });

  it("link: an archived parent counts as finished and does not demote", async () => {
    const b = board();
    const p = await b.createTask({ title: "parent" });
    await setStatus(b, p.id, "archived");
    const c = await b.createTask({ title: "child" });
    expect(await b.linkTasks(p.id, c.id)).toEqual({ demoted: false });
    expect(await status(b, c.id)).toBe("ready");
  });

  it("link: only a ready child is demoted (blocked, triage and running keep their status)", async () => {
    const b = board();
    const p = await b.createTask({ title: "parent" });
    const blocked = await b.createTask({ title: "blocked", initial_status: "blocked" });
    const triage = await b.createTask({ title: "triage", triage: true });
    const running = await b.createTask({ title: "running" });
    await b.claimTask(running.id);
    for (const c of [blocked, triage, running]) expect(await b.linkTasks(p.id, c.id)).toEqual({ demoted: false });
    expect([await status(b, blocked.id), await status(b, triage.id), await status(b, running.id)]).toEqual([
      "blocked",
      "triage",
      "running",
    ]);
  });

  it("link: linking the same edge twice writes one edge and one event", async () => {
    const b = board();
    const p = await b.createTask({ title: "parent" });
    const c = await b.createTask({ title: "child" });
    await b.linkTasks(p.id, c.id);
    await b.linkTasks(p.id, c.id);
    expect(await b.parentIds(c.id)).toEqual([p.id]);
    expect(await kinds(b, c.id)).toEqual(["created", "linked"]);
  });
});

describe("unlink", () => {
  it("unlink: removes the edge with an unlinked event and re-gates the child at once (#22459)", async () => {
    const b = board();
    const p = await b.createTask({ title: "parent" });
    const c = await b.createTask({ title: "child", parents: [p.id] });
    expect(await b.unlinkTasks(p.id, c.id)).toBe(true);
    expect(await b.parentIds(c.id)).toEqual([]);
    expect(await status(b, c.id)).toBe("ready");
    expect(await kinds(b, c.id)).toEqual(["created", "unlinked", "promoted"]);
    expect((await b.listEvents(c.id))[1]?.payload).toEqual({ parent: p.id, child: c.id });
  });

  it("unlink: a child with another unfinished parent stays todo", async () => {
    const b = board();
    const p1 = await b.createTask({ title: "p1" });
    const p2 = await b.createTask({ title: "p2" });
    const c = await b.createTask({ title: "child", parents: [p1.id, p2.id] });
    await b.unlinkTasks(p1.id, c.id);
    expect(await status(b, c.id)).toBe("todo");
  });

  it("unlink: a missing edge returns false and writes nothing", async () => {
    const b = board();
    const p = await b.createTask({ title: "p" });
    const c = await b.createTask({ title: "c" });
    expect(await b.unlinkTasks(p.id, c.id)).toBe(false);
    expect(await kinds(b, c.id)).toEqual(["created"]);
  });
});

describe("recompute_ready", () => {
  it("recompute_ready: promotes todo tasks whose parents are done, with a promoted event (not the legacy ready)", async () => {
    const b = board();
    const p = await b.createTask({ title: "parent" });
    const c = await b.createTask({ title: "child", parents: [p.id] });
    expect(await b.recomputeReady()).toBe(0);
    await setStatus(b, p.id, "done");
    expect(await b.recomputeReady()).toBe(1);
    expect(await status(b, c.id)).toBe("ready");
    expect(await lastEvent(b, c.id)).toMatchObject({ kind: "promoted", payload: null, run_id: null });
    expect(await kinds(b, c.id)).not.toContain("ready");
  });

  it("recompute_ready: cascades one level per completion through a chain", async () => {
    const b = board();
    const a = await b.createTask({ title: "a" });
    const m = await b.createTask({ title: "m", parents: [a.id] });
    const z = await b.createTask({ title: "z", parents: [m.id] });
    await setStatus(b, a.id, "done");
    expect(await b.recomputeReady()).toBe(1);
    expect([await status(b, m.id), await status(b, z.id)]).toEqual(["ready", "todo"]);
    await setStatus(b, m.id, "done");
    expect(await b.recomputeReady()).toBe(1);
    expect(await status(b, z.id)).toBe("ready");
  });

  it("recompute_ready: fan-in waits for every parent", async () => {
    const b = board();
    const p1 = await b.createTask({ title: "p1" });
    const p2 = await b.createTask({ title: "p2" });
    const c = await b.createTask({ title: "child", parents: [p1.id, p2.id] });
    await setStatus(b, p1.id, "done");
    expect(await b.recomputeReady()).toBe(0);
    expect(await status(b, c.id)).toBe("todo");
    await setStatus(b, p2.id, "done");
    expect(await b.recomputeReady()).toBe(1);
    expect(await status(b, c.id)).toBe("ready");
  });

  it("recompute_ready: archived parents count as done", async () => {
    const b = board();
    const p1 = await b.createTask({ title: "p1" });
    const p2 = await b.createTask({ title: "p2" });
    const c = await b.createTask({ title: "child", parents: [p1.id, p2.id] });
    await setStatus(b, p1.id, "done");
    await setStatus(b, p2.id, "archived");
    expect(await b.recomputeReady()).toBe(1);
    expect(await status(b, c.id)).toBe("ready");
  });

  it("recompute_ready: a non-sticky blocked task (no blocked event) with done parents is promoted", async () => {
    const b = board();
    const p = await b.createTask({ title: "parent" });
    const c = await b.createTask({ title: "child", parents: [p.id] });
    await setStatus(b, c.id, "blocked"); // manual DB triage: no blocked event
    expect(await b.recomputeReady()).toBe(0); // parent still open
    await setStatus(b, p.id, "done");
    expect(await b.recomputeReady()).toBe(1);
    expect(await status(b, c.id)).toBe("ready");
  });

  it("recompute_ready: never touches triage, scheduled, ready, running, review or done tasks", async () => {
    const b = board();
    const ids = await mapInOrder(["triage", "scheduled", "ready", "running", "review", "done"], async (s) => {
      const t = await b.createTask({ title: s });
      await setStatus(b, t.id, s);
      return t.id;
    });
    expect(await b.recomputeReady()).toBe(0);
    expect(await mapInOrder(ids, async (id) => await status(b, id))).toEqual([
      "triage",
      "scheduled",
      "ready",
      "running",
      "review",
      "done",
    ]);
  });

  it("recompute_ready: a worker's explicit block stays blocked across any number of ticks (#28712)", async () => {
    const b = board();
    const t = await b.createTask({ title: "needs review", assignee: "alice" });
    const claimed = await b.claimTask(t.id);
    await b.blockTask(t.id, { reason: "please review my approach", expected_run_id: claimed?.current_run_id });
    for (let i = 0; i < 10; i++) {
      b.clock.advance(60);
      expect(await b.recomputeReady()).toBe(0);
    }
    expect(await status(b, t.id)).toBe("blocked");
    expect(await kinds(b, t.id)).not.toContain("promoted");
  });

  it("recompute_ready: a worker's block on a child with done parents is still sticky", async () => {
    const b = board();
    const p = await b.createTask({ title: "parent" });
    const c = await b.createTask({ title: "child", parents: [p.id] });
    await b.completeTask(p.id);
    expect(await status(b, c.id)).toBe("ready");
    await b.claimTask(c.id);
    await b.blockTask(c.id, { reason: "stuck" });
    for (let i = 0; i < 5; i++) expect(await b.recomputeReady()).toBe(0);
    expect(await status(b, c.id)).toBe("blocked");
  });

  it("recompute_ready: a circuit-breaker block (gave_up, no blocked event) still auto-promotes when the board's limit allows", async () => {
    let limit = 1; // the board's live failure limit (config's failure_limit), raised below
    const b = board({ failureLimit: () => limit });
    const t = await b.createTask({ title: "flaky", assignee: "alice" });
    await b.claimTask(t.id);
    // The board's limit was 1 when it tripped.
    expect(
      await b.recordTaskFailure(t.id, {
        error: "spawn failed",
        outcome: "spawn_failed",
        releaseClaim: true,
      }),
    ).toBe(true);
    expect(await b.getTask(t.id)).toMatchObject({ status: "blocked", consecutive_failures: 1 });
    expect(await kinds(b, t.id)).toEqual(["created", "claimed", "gave_up"]);
    expect(await b.recomputeReady()).toBe(0); // still at that limit: a tripped breaker never self-recovers
    limit = 3;
    expect(await b.recomputeReady()).toBe(1); // gave_up alone is not sticky
    expect(await b.getTask(t.id)).toMatchObject({ status: "ready", consecutive_failures: 1 });
  });

  it("recompute_ready: a tripped breaker never self-recovers at the default limit, and the counter is kept", async () => {
    const b = board();
    const t = await b.createTask({ title: "x" });
    await setStatus(b, t.id, "blocked");
    await setFailures(b, t.id, 2);
    expect(await b.recomputeReady()).toBe(0);
    expect(await b.getTask(t.id)).toMatchObject({ status: "blocked", consecutive_failures: 2 });
    await setFailures(b, t.id, 1);
    expect(await b.recomputeReady()).toBe(1);
  });

  it("recompute_ready: a task's max_retries overrides the board's failure limit, both ways", async () => {
    let limit = 2;
    const b = board({ failureLimit: () => limit });
    const strict = await b.createTask({ title: "strict", max_retries: 1 });
    const lenient = await b.createTask({ title: "lenient", max_retries: 5 });
    for (const t of [strict, lenient]) {
      await setStatus(b, t.id, "blocked");
      await setFailures(b, t.id, 3);
    }
    // Board limit 10 would free both; strict's own limit of 1 keeps it blocked.
    // Board limit 2 would keep both; lenient's own limit of 5 frees it.
    expect(await b.recomputeReady()).toBe(1);
    expect([await status(b, strict.id), await status(b, lenient.id)]).toEqual(["blocked", "ready"]);
    limit = 10;
    expect(await b.recomputeReady()).toBe(0);
    expect(await status(b, strict.id)).toBe("blocked");
  });

  it("recompute_ready: without max_retries the board's failure limit applies, as it is at the pass", async () => {
    let limit = 3;
    const b = board({ failureLimit: () => limit });
    const t = await b.createTask({ title: "x" });
    await setStatus(b, t.id, "blocked");
    await setFailures(b, t.id, 3);
    expect(await b.recomputeReady()).toBe(0);
    limit = 4;
    expect(await b.recomputeReady()).toBe(1);
  });

  it("recompute_ready: the breaker limit does not gate todo tasks", async () => {
    const b = board();
    const p = await b.createTask({ title: "parent" });
    const c = await b.createTask({ title: "child", parents: [p.id] });
    await setFailures(b, c.id, 9);
    await setStatus(b, p.id, "done");
    expect(await b.recomputeReady()).toBe(1);
    expect(await status(b, c.id)).toBe("ready");
  });

  it("recompute_ready: unblock clears stickiness, so a later breaker block is auto-recoverable again", async () => {
    let limit = 2;
    const b = board({ failureLimit: () => limit });
    const t = await b.createTask({ title: "x", assignee: "alice" });
    await b.claimTask(t.id);
    await b.blockTask(t.id, { reason: "human needed" });
    expect(await b.recomputeReady()).toBe(0);
    await b.unblockTask(t.id);
    await b.claimTask(t.id);
    limit = 1; // the board's limit when the failure is booked
    expect(await b.recordTaskFailure(t.id, { error: "crash", outcome: "crashed", releaseClaim: true })).toBe(true);
    expect(await status(b, t.id)).toBe("blocked");
    limit = 2;
    expect(await b.recomputeReady()).toBe(1); // limit 2 > 1 failure; newest blocked/unblocked event is unblocked
    expect(await status(b, t.id)).toBe("ready");
  });
});

describe("recompute_ready: Todo holds a card a person put there", () => {
  it("a parentless card moved to Todo stays there across any number of ticks (it used to be promoted and dispatched)", async () => {
    const b = board();
    const t = await b.createTask({ title: "not yet", assignee: "coder" });
    expect((await b.moveTask(t.id, { status: "todo" })).task.status).toBe("todo");
    for (let i = 0; i < 5; i++) expect(await b.recomputeReady()).toBe(0);
    expect(await status(b, t.id)).toBe("todo");
    expect(await b.claimTask(t.id)).toBeNull();
    // Comments, edits and reassignments do not unpark it.
    await b.addComment(t.id, "alice", "later");
    await b.updateTask(t.id, { title: "not yet, really" });
    await b.assignTask(t.id, "writer");
    expect(await b.recomputeReady()).toBe(0);
    expect(await status(b, t.id)).toBe("todo");
  });

  it("a card with every parent done, moved to Todo, is held too; new parents finishing or unlinks do not release it", async () => {
    const b = board();
    const p1 = await b.createTask({ title: "p1" });
    await b.completeTask(p1.id);
    const c = await b.createTask({ title: "child", parents: [p1.id] });
    expect(await status(b, c.id)).toBe("ready");
    await b.setStatusDirect(c.id, "todo");
    expect(await b.recomputeReady()).toBe(0);
    const p2 = await b.createTask({ title: "p2" });
    await b.linkTasks(p2.id, c.id);
    await b.completeTask(p2.id);
    await b.unlinkTasks(p1.id, c.id);
    expect(await b.recomputeReady()).toBe(0);
    expect(await status(b, c.id)).toBe("todo");
  });

  it("a parked card leaves Todo only when someone moves it: drag to Ready, or promote", async () => {
    const b = board();
    const dragged = await b.createTask({ title: "dragged" });
    const promoted = await b.createTask({ title: "promoted" });
    for (const t of [dragged, promoted]) await b.setStatusDirect(t.id, "todo");
    await b.moveTask(dragged.id, { status: "ready" });
    expect((await b.promoteTask(promoted.id, { actor: "ops" })).ok).toBe(true);
    expect([await status(b, dragged.id), await status(b, promoted.id)]).toEqual(["ready", "ready"]);
  });

  it("once moved on, a formerly parked card waits on dependencies as usual again", async () => {
    const b = board();
    const t = await b.createTask({ title: "x" });
    await b.setStatusDirect(t.id, "todo");
    await b.promoteTask(t.id);
    const p = await b.createTask({ title: "new parent" });
    expect((await b.linkTasks(p.id, t.id)).demoted).toBe(true);
    await b.completeTask(p.id);
    expect(await status(b, t.id)).toBe("ready");
  });

  it("dependency waits are still promoted: created under open parents, demoted by a link or a claim, unblocked early", async () => {
    const b = board();
    const p = await b.createTask({ title: "parent" });
    const created = await b.createTask({ title: "created", parents: [p.id] });
    const linked = await b.createTask({ title: "linked" });
    await b.linkTasks(p.id, linked.id);
    const blocked = await b.createTask({ title: "blocked", initial_status: "blocked", parents: [p.id] });
    await b.unblockTask(blocked.id);
    const claimedEarly = await b.createTask({ title: "claimed early", parents: [p.id] });
    await setStatus(b, claimedEarly.id, "ready"); // a stray write; the claim re-checks parents and demotes it
    expect(await b.claimTask(claimedEarly.id)).toBeNull();
    const ids = [created.id, linked.id, blocked.id, claimedEarly.id];
    expect(await mapInOrder(ids, async (id) => await status(b, id))).toEqual(["todo", "todo", "todo", "todo"]);
    await setStatus(b, p.id, "done");
    expect(await b.recomputeReady()).toBe(4);
    expect(await mapInOrder(ids, async (id) => await status(b, id))).toEqual(["ready", "ready", "ready", "ready"]);
  });

  it("a status event written automatically (Hermes' ancestor_reopened invalidation carries a reason) does not park", async () => {
    const b = board();
    const t = await b.createTask({ title: "x" });
    await setStatus(b, t.id, "todo");
    await rawSql(b).run(
      "INSERT INTO task_events (task_id, kind, payload, created_at) VALUES (?, 'status', ?, ?)",
      t.id,
      JSON.stringify({ status: "todo", reason: "ancestor_reopened", parent: "t_00000000" }),
      b.clock.seconds,
    );
    expect(await b.recomputeReady()).toBe(1);
  });

  it("a pathological payload on the newest status event neither breaks the tick nor parks the card", async () => {
    const b = board();
    const t = await b.createTask({ title: "x" });
    await setStatus(b, t.id, "todo");
    const deep = `${'{"a":'.repeat(50_000)}1${"}".repeat(50_000)}`;
    await rawSql(b).run(
      "INSERT INTO task_events (task_id, kind, payload, created_at) VALUES (?, 'status', ?, ?)",
      t.id,
      deep,
      b.clock.seconds,
    );
    expect(await b.recomputeReady()).toBe(1);
  });
});

describe("promote_task", () => {
  it("promote: a stuck todo task with no parents goes ready with a promoted_manual event", async () => {
    const b = board();
    const t = await b.createTask({ title: "x" });
    await setStatus(b, t.id, "todo");
    expect(await b.promoteTask(t.id, { actor: "ops", reason: "stuck after manual edit" })).toEqual({
      ok: true,
      error: null,
    });
    expect(await status(b, t.id)).toBe("ready");
    expect(await lastEvent(b, t.id)).toMatchObject({
      kind: "promoted_manual",
      payload: { actor: "ops", reason: "stuck after manual edit" },
    });
  });

  it("promote: the audit event defaults to actor user and reason null", async () => {
    const b = board();
    const t = await b.createTask({ title: "x" });
    await setStatus(b, t.id, "todo");
    await b.promoteTask(t.id);
    expect((await lastEvent(b, t.id))?.payload).toEqual({ actor: "user", reason: null });
  });

  it("promote: refuses unsatisfied parents, with no force bypass (B fix)", async () => {
    const b = board();
    const p = await b.createTask({ title: "parent" });
    const c = await b.createTask({ title: "child", parents: [p.id] });
    expect(await b.promoteTask(c.id, { actor: "ops" })).toEqual({
      ok: false,
      error: `unsatisfied parent dependencies: ${p.id} (ready) (the ready -> running claim re-checks parents, so promotion cannot bypass them; finish or unlink them first)`,
    });
    expect(await status(b, c.id)).toBe("todo");
    expect(await kinds(b, c.id)).toEqual(["created"]);
  });

  it("promote: archived parents satisfy the check", async () => {
    const b = board();
    const p = await b.createTask({ title: "parent" });
    const c = await b.createTask({ title: "child", parents: [p.id] });
    await setStatus(b, p.id, "archived");
    expect(await b.promoteTask(c.id)).toEqual({ ok: true, error: null });
  });

  it("promote: does not change the assignee", async () => {
    const b = board();
    const t = await b.createTask({ title: "x", assignee: "alice" });
    await setStatus(b, t.id, "todo");
    await b.promoteTask(t.id);
    expect((await b.getTask(t.id))?.assignee).toBe("alice");
  });

  it("promote: dry run reports success but changes nothing", async () => {
    const b = board();
    const t = await b.createTask({ title: "x" });
    await setStatus(b, t.id, "todo");
    expect(await b.promoteTask(t.id, { dryRun: true })).toEqual({ ok: true, error: null });
    expect(await status(b, t.id)).toBe("todo");
    expect(await kinds(b, t.id)).toEqual(["created"]);
  });

  it("promote: dry run reports an unsatisfied dependency", async () => {
    const b = board();
    const p = await b.createTask({ title: "parent" });
    const c = await b.createTask({ title: "child", parents: [p.id] });
    const r = await b.promoteTask(c.id, { dryRun: true });
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/^unsatisfied parent dependencies: /);
  });

  it.each(["ready", "running", "done", "triage", "scheduled", "review", "archived"])(
    "promote: refuses a task in %s",
    async (s) => {
      const b = board();
      const t = await b.createTask({ title: "x" });
      await setStatus(b, t.id, s);
      expect(await b.promoteTask(t.id)).toEqual({
        ok: false,
        error: `task ${t.id} is '${s}'; promote only applies to 'todo' or 'blocked'`,
      });
      expect(await status(b, t.id)).toBe(s);
    },
  );

  it("promote: refuses an unknown task", async () => {
    expect(await board().promoteTask("t_missing0")).toEqual({ ok: false, error: "task t_missing0 not found" });
  });

  it("promote: a blocked task (even an explicit block) can be promoted by an operator", async () => {
    const b = board();
    const t = await b.createTask({ title: "x" });
    await b.blockTask(t.id, { reason: "waiting" });
    expect(await b.promoteTask(t.id, { actor: "ops" })).toEqual({ ok: true, error: null });
    expect(await status(b, t.id)).toBe("ready");
    expect(await kinds(b, t.id)).toEqual(["created", "blocked", "promoted_manual"]);
  });
});
