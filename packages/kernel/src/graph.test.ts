import { describe, expect, it } from "vitest";
import { boardInternals, type TestBoard } from "./testing/index.ts";
import { kernelError, useTestBoards } from "./testing/helpers.ts";

// Spec §2.2 (assign/reassign), §2.3 (link/unlink), §2.4 (recompute_ready, promote_task), §1.5;
// Hermes tests: test_kanban_db.py, test_kanban_core_functionality.py, test_kanban_promote.py,
// test_kanban_blocked_sticky.py.

const board = useTestBoards();
const setStatus = (b: TestBoard, id: string, status: string) =>
  boardInternals(b).sqlite.prepare("UPDATE tasks SET status = ? WHERE id = ?").run(status, id);
const setFailures = (b: TestBoard, id: string, n: number, error: string | null = "boom") =>
  boardInternals(b)
    .sqlite.prepare("UPDATE tasks SET consecutive_failures = ?, last_failure_error = ? WHERE id = ?")
    .run(n, error, id);
const status = (b: TestBoard, id: string) => b.getTask(id)?.status;
const kinds = (b: TestBoard, id: string) => b.listEvents(id).map((e) => e.kind);
const lastEvent = (b: TestBoard, id: string) => b.listEvents(id).at(-1);

describe("assign", () => {
  it("assign: refuses a running, claimed task", () => {
    const b = board();
    const t = b.createTask({ title: "x", assignee: "alice" });
    b.claimTask(t.id);
    expect(() => b.assignTask(t.id, "bob")).toThrow(
      kernelError(
        "WRONG_STATE",
        `cannot reassign ${t.id}: currently running (claimed). Wait for completion or reclaim the stale lock first.`,
      ),
    );
    expect(b.getTask(t.id)?.assignee).toBe("alice");
    expect(kinds(b, t.id)).toEqual(["created", "claimed"]);
  });

  it("assign: reassigns a task that is not running, with an assigned event naming the previous assignee", () => {
    const b = board();
    const t = b.createTask({ title: "x", assignee: "alice" });
    expect(b.assignTask(t.id, "Bob")).toBe(true);
    expect(b.getTask(t.id)?.assignee).toBe("bob");
    expect(lastEvent(b, t.id)).toMatchObject({
      kind: "assigned",
      payload: { assignee: "bob", from: "alice" },
      run_id: null,
    });
  });

  it("assign: null unassigns", () => {
    const b = board();
    const t = b.createTask({ title: "x", assignee: "alice" });
    expect(b.assignTask(t.id, null)).toBe(true);
    expect(b.getTask(t.id)?.assignee).toBeNull();
    expect(lastEvent(b, t.id)?.payload).toEqual({ assignee: null, from: "alice" });
  });

  it("assign: an unknown task returns false", () => {
    expect(board().assignTask("t_missing0", "bob")).toBe(false);
  });

  it("assign: a real change of assignee resets the failure streak for the new profile", () => {
    const b = board();
    const t = b.createTask({ title: "x", assignee: "alice" });
    setFailures(b, t.id, 1, "spawn failed: no such binary");
    b.assignTask(t.id, "bob");
    expect(b.getTask(t.id)).toMatchObject({ consecutive_failures: 0, last_failure_error: null });
  });

  it("assign: the same profile (in any case) keeps the failure streak and writes no event", () => {
    const b = board();
    const t = b.createTask({ title: "x", assignee: "alice" });
    setFailures(b, t.id, 1);
    expect(b.assignTask(t.id, " ALICE ")).toBe(true);
    expect(b.getTask(t.id)).toMatchObject({ assignee: "alice", consecutive_failures: 1, last_failure_error: "boom" });
    expect(kinds(b, t.id)).toEqual(["created"]);
  });
});

describe("reassign", () => {
  it("reassign: a running task without reclaim_first is refused (ok false) and keeps running", () => {
    const b = board();
    const t = b.createTask({ title: "x", assignee: "alice" });
    b.claimTask(t.id);
    expect(b.reassignTask(t.id, "bob")).toEqual({ ok: false, terminate: null });
    expect(b.getTask(t.id)).toMatchObject({ status: "running", assignee: "alice" });
  });

  it("reassign: reclaim_first reclaims a running task, closes its run and switches profile", () => {
    const b = board();
    const t = b.createTask({ title: "x", assignee: "alice" });
    const claimed = b.claimTask(t.id);
    setFailures(b, t.id, 1);
    const r = b.reassignTask(t.id, "bob", { reclaimFirst: true });
    expect(r.ok).toBe(true);
    expect(b.getTask(t.id)).toMatchObject({
      status: "ready",
      assignee: "bob",
      claim_lock: null,
      current_run_id: null,
      consecutive_failures: 0,
    });
    expect(b.listRuns(t.id)).toMatchObject([
      { id: claimed?.current_run_id, status: "reclaimed", outcome: "reclaimed", profile: "alice" },
    ]);
    const events = b.listEvents(t.id);
    expect(events.map((e) => e.kind)).toEqual(["created", "claimed", "reclaimed", "assigned"]);
    expect(events[2]?.payload).toMatchObject({ manual: true, reason: "reassign", prev_lock: "testhost:4242" });
    expect(events[3]?.payload).toEqual({ assignee: "bob", from: "alice" });
  });

  it("reassign: reclaim_first passes the caller's reason to the reclaim", () => {
    const b = board();
    const t = b.createTask({ title: "x", assignee: "alice" });
    b.claimTask(t.id);
    b.reassignTask(t.id, "bob", { reclaimFirst: true, reason: "alice is stuck" });
    expect(b.listEvents(t.id).find((e) => e.kind === "reclaimed")?.payload?.reason).toBe("alice is stuck");
  });

  it("reassign: reclaim_first on a task with nothing to reclaim just reassigns", () => {
    const b = board();
    const t = b.createTask({ title: "x", assignee: "alice" });
    expect(b.reassignTask(t.id, "bob", { reclaimFirst: true })).toEqual({ ok: true, terminate: null });
    expect(b.getTask(t.id)).toMatchObject({ status: "ready", assignee: "bob" });
    expect(kinds(b, t.id)).toEqual(["created", "assigned"]);
  });

  it("reassign: an unknown task is NOT_FOUND", () => {
    expect(() => board().reassignTask("t_missing0", "bob")).toThrow(
      kernelError("NOT_FOUND", "task t_missing0 not found"),
    );
  });
});

describe("link", () => {
  it("link: refuses a self-link", () => {
    const b = board();
    const t = b.createTask({ title: "x" });
    expect(() => b.linkTasks(t.id, t.id)).toThrow(kernelError("INVALID_INPUT", "a task cannot depend on itself"));
  });

  it("link: refuses unknown tasks, naming them", () => {
    const b = board();
    const t = b.createTask({ title: "x" });
    expect(() => b.linkTasks("t_nope0001", t.id)).toThrow(kernelError("INVALID_INPUT", "unknown task(s): t_nope0001"));
    expect(() => b.linkTasks("t_nope0001", "t_nope0002")).toThrow(
      kernelError("INVALID_INPUT", "unknown task(s): t_nope0001, t_nope0002"),
    );
  });

  it("link: refuses an edge that would close a cycle, directly or through a chain", () => {
    const b = board();
    const a = b.createTask({ title: "a" });
    const c = b.createTask({ title: "c", parents: [a.id] });
    const d = b.createTask({ title: "d", parents: [c.id] });
    expect(() => b.linkTasks(c.id, a.id)).toThrow(
      kernelError("INVALID_INPUT", `linking ${c.id} -> ${a.id} would create a cycle`),
    );
    expect(() => b.linkTasks(d.id, a.id)).toThrow(
      kernelError("INVALID_INPUT", `linking ${d.id} -> ${a.id} would create a cycle`),
    );
    expect(b.parentIds(a.id)).toEqual([]);
  });

  it("link: a ready child gets an unfinished parent: demoted to todo, linked event on the child", () => {
    const b = board();
    const p = b.createTask({ title: "parent" });
    const c = b.createTask({ title: "child" });
    expect(b.linkTasks(p.id, c.id)).toEqual({ demoted: true });
    expect(status(b, c.id)).toBe("todo");
    expect(b.parentIds(c.id)).toEqual([p.id]);
    expect(lastEvent(b, c.id)).toMatchObject({ kind: "linked", payload: { parent: p.id, child: c.id } });
    expect(kinds(b, p.id)).toEqual(["created"]);
  });

  it("link: a done parent leaves a ready child ready", () => {
    const b = board();
    const p = b.createTask({ title: "parent" });
    b.completeTask(p.id);
    const c = b.createTask({ title: "child" });
    expect(b.linkTasks(p.id, c.id)).toEqual({ demoted: false });
    expect(status(b, c.id)).toBe("ready");
  });

  it("link: an archived parent counts as finished and does not demote", () => {
    const b = board();
    const p = b.createTask({ title: "parent" });
    setStatus(b, p.id, "archived");
    const c = b.createTask({ title: "child" });
    expect(b.linkTasks(p.id, c.id)).toEqual({ demoted: false });
    expect(status(b, c.id)).toBe("ready");
  });

  it("link: only a ready child is demoted (blocked, triage and running keep their status)", () => {
    const b = board();
    const p = b.createTask({ title: "parent" });
    const blocked = b.createTask({ title: "blocked", initial_status: "blocked" });
    const triage = b.createTask({ title: "triage", triage: true });
    const running = b.createTask({ title: "running" });
    b.claimTask(running.id);
    for (const c of [blocked, triage, running]) expect(b.linkTasks(p.id, c.id)).toEqual({ demoted: false });
    expect([status(b, blocked.id), status(b, triage.id), status(b, running.id)]).toEqual([
      "blocked",
      "triage",
      "running",
    ]);
  });

  it("link: linking the same edge twice writes one edge and one event", () => {
    const b = board();
    const p = b.createTask({ title: "parent" });
    const c = b.createTask({ title: "child" });
    b.linkTasks(p.id, c.id);
    b.linkTasks(p.id, c.id);
    expect(b.parentIds(c.id)).toEqual([p.id]);
    expect(kinds(b, c.id)).toEqual(["created", "linked"]);
  });
});

describe("unlink", () => {
  it("unlink: removes the edge with an unlinked event and re-gates the child at once (#22459)", () => {
    const b = board();
    const p = b.createTask({ title: "parent" });
    const c = b.createTask({ title: "child", parents: [p.id] });
    expect(b.unlinkTasks(p.id, c.id)).toBe(true);
    expect(b.parentIds(c.id)).toEqual([]);
    expect(status(b, c.id)).toBe("ready");
    expect(kinds(b, c.id)).toEqual(["created", "unlinked", "promoted"]);
    expect(b.listEvents(c.id)[1]?.payload).toEqual({ parent: p.id, child: c.id });
  });

  it("unlink: a child with another unfinished parent stays todo", () => {
    const b = board();
    const p1 = b.createTask({ title: "p1" });
    const p2 = b.createTask({ title: "p2" });
    const c = b.createTask({ title: "child", parents: [p1.id, p2.id] });
    b.unlinkTasks(p1.id, c.id);
    expect(status(b, c.id)).toBe("todo");
  });

  it("unlink: a missing edge returns false and writes nothing", () => {
    const b = board();
    const p = b.createTask({ title: "p" });
    const c = b.createTask({ title: "c" });
    expect(b.unlinkTasks(p.id, c.id)).toBe(false);
    expect(kinds(b, c.id)).toEqual(["created"]);
  });
});

describe("recompute_ready", () => {
  it("recompute_ready: promotes todo tasks whose parents are done, with a promoted event (not the legacy ready)", () => {
    const b = board();
    const p = b.createTask({ title: "parent" });
    const c = b.createTask({ title: "child", parents: [p.id] });
    expect(b.recomputeReady()).toBe(0);
    setStatus(b, p.id, "done");
    expect(b.recomputeReady()).toBe(1);
    expect(status(b, c.id)).toBe("ready");
    expect(lastEvent(b, c.id)).toMatchObject({ kind: "promoted", payload: null, run_id: null });
    expect(kinds(b, c.id)).not.toContain("ready");
  });

  it("recompute_ready: cascades one level per completion through a chain", () => {
    const b = board();
    const a = b.createTask({ title: "a" });
    const m = b.createTask({ title: "m", parents: [a.id] });
    const z = b.createTask({ title: "z", parents: [m.id] });
    setStatus(b, a.id, "done");
    expect(b.recomputeReady()).toBe(1);
    expect([status(b, m.id), status(b, z.id)]).toEqual(["ready", "todo"]);
    setStatus(b, m.id, "done");
    expect(b.recomputeReady()).toBe(1);
    expect(status(b, z.id)).toBe("ready");
  });

  it("recompute_ready: fan-in waits for every parent", () => {
    const b = board();
    const p1 = b.createTask({ title: "p1" });
    const p2 = b.createTask({ title: "p2" });
    const c = b.createTask({ title: "child", parents: [p1.id, p2.id] });
    setStatus(b, p1.id, "done");
    expect(b.recomputeReady()).toBe(0);
    expect(status(b, c.id)).toBe("todo");
    setStatus(b, p2.id, "done");
    expect(b.recomputeReady()).toBe(1);
    expect(status(b, c.id)).toBe("ready");
  });

  it("recompute_ready: archived parents count as done", () => {
    const b = board();
    const p1 = b.createTask({ title: "p1" });
    const p2 = b.createTask({ title: "p2" });
    const c = b.createTask({ title: "child", parents: [p1.id, p2.id] });
    setStatus(b, p1.id, "done");
    setStatus(b, p2.id, "archived");
    expect(b.recomputeReady()).toBe(1);
    expect(status(b, c.id)).toBe("ready");
  });

  it("recompute_ready: a non-sticky blocked task (no blocked event) with done parents is promoted", () => {
    const b = board();
    const p = b.createTask({ title: "parent" });
    const c = b.createTask({ title: "child", parents: [p.id] });
    setStatus(b, c.id, "blocked"); // manual DB triage: no blocked event
    expect(b.recomputeReady()).toBe(0); // parent still open
    setStatus(b, p.id, "done");
    expect(b.recomputeReady()).toBe(1);
    expect(status(b, c.id)).toBe("ready");
  });

  it("recompute_ready: never touches triage, scheduled, ready, running, review or done tasks", () => {
    const b = board();
    const ids = ["triage", "scheduled", "ready", "running", "review", "done"].map((s) => {
      const t = b.createTask({ title: s });
      setStatus(b, t.id, s);
      return t.id;
    });
    expect(b.recomputeReady()).toBe(0);
    expect(ids.map((id) => status(b, id))).toEqual(["triage", "scheduled", "ready", "running", "review", "done"]);
  });

  it("recompute_ready: a worker's explicit block stays blocked across any number of ticks (#28712)", () => {
    const b = board();
    const t = b.createTask({ title: "needs review", assignee: "alice" });
    const claimed = b.claimTask(t.id);
    b.blockTask(t.id, { reason: "please review my approach", expected_run_id: claimed?.current_run_id });
    for (let i = 0; i < 10; i++) {
      b.clock.advance(60);
      expect(b.recomputeReady()).toBe(0);
    }
    expect(status(b, t.id)).toBe("blocked");
    expect(kinds(b, t.id)).not.toContain("promoted");
  });

  it("recompute_ready: a worker's block on a child with done parents is still sticky", () => {
    const b = board();
    const p = b.createTask({ title: "parent" });
    const c = b.createTask({ title: "child", parents: [p.id] });
    b.completeTask(p.id);
    expect(status(b, c.id)).toBe("ready");
    b.claimTask(c.id);
    b.blockTask(c.id, { reason: "stuck" });
    for (let i = 0; i < 5; i++) expect(b.recomputeReady()).toBe(0);
    expect(status(b, c.id)).toBe("blocked");
  });

  it("recompute_ready: a circuit-breaker block (gave_up, no blocked event) still auto-promotes when the board's limit allows", () => {
    let limit = 1; // the board's live failure limit (config's failure_limit), raised below
    const b = board({ failureLimit: () => limit });
    const t = b.createTask({ title: "flaky", assignee: "alice" });
    b.claimTask(t.id);
    // The board's limit was 1 when it tripped.
    expect(
      b.recordTaskFailure(t.id, {
        error: "spawn failed",
        outcome: "spawn_failed",
        releaseClaim: true,
      }),
    ).toBe(true);
    expect(b.getTask(t.id)).toMatchObject({ status: "blocked", consecutive_failures: 1 });
    expect(kinds(b, t.id)).toEqual(["created", "claimed", "gave_up"]);
    expect(b.recomputeReady()).toBe(0); // still at that limit: a tripped breaker never self-recovers
    limit = 3;
    expect(b.recomputeReady()).toBe(1); // gave_up alone is not sticky
    expect(b.getTask(t.id)).toMatchObject({ status: "ready", consecutive_failures: 1 });
  });

  it("recompute_ready: a tripped breaker never self-recovers at the default limit, and the counter is kept", () => {
    const b = board();
    const t = b.createTask({ title: "x" });
    setStatus(b, t.id, "blocked");
    setFailures(b, t.id, 2);
    expect(b.recomputeReady()).toBe(0);
    expect(b.getTask(t.id)).toMatchObject({ status: "blocked", consecutive_failures: 2 });
    setFailures(b, t.id, 1);
    expect(b.recomputeReady()).toBe(1);
  });

  it("recompute_ready: a task's max_retries overrides the board's failure limit, both ways", () => {
    let limit = 2;
    const b = board({ failureLimit: () => limit });
    const strict = b.createTask({ title: "strict", max_retries: 1 });
    const lenient = b.createTask({ title: "lenient", max_retries: 5 });
    for (const t of [strict, lenient]) {
      setStatus(b, t.id, "blocked");
      setFailures(b, t.id, 3);
    }
    // Board limit 10 would free both; strict's own limit of 1 keeps it blocked.
    // Board limit 2 would keep both; lenient's own limit of 5 frees it.
    expect(b.recomputeReady()).toBe(1);
    expect([status(b, strict.id), status(b, lenient.id)]).toEqual(["blocked", "ready"]);
    limit = 10;
    expect(b.recomputeReady()).toBe(0);
    expect(status(b, strict.id)).toBe("blocked");
  });

  it("recompute_ready: without max_retries the board's failure limit applies, as it is at the pass", () => {
    let limit = 3;
    const b = board({ failureLimit: () => limit });
    const t = b.createTask({ title: "x" });
    setStatus(b, t.id, "blocked");
    setFailures(b, t.id, 3);
    expect(b.recomputeReady()).toBe(0);
    limit = 4;
    expect(b.recomputeReady()).toBe(1);
  });

  it("recompute_ready: the breaker limit does not gate todo tasks", () => {
    const b = board();
    const p = b.createTask({ title: "parent" });
    const c = b.createTask({ title: "child", parents: [p.id] });
    setFailures(b, c.id, 9);
    setStatus(b, p.id, "done");
    expect(b.recomputeReady()).toBe(1);
    expect(status(b, c.id)).toBe("ready");
  });

  it("recompute_ready: unblock clears stickiness, so a later breaker block is auto-recoverable again", () => {
    let limit = 2;
    const b = board({ failureLimit: () => limit });
    const t = b.createTask({ title: "x", assignee: "alice" });
    b.claimTask(t.id);
    b.blockTask(t.id, { reason: "human needed" });
    expect(b.recomputeReady()).toBe(0);
    b.unblockTask(t.id);
    b.claimTask(t.id);
    limit = 1; // the board's limit when the failure is booked
    expect(b.recordTaskFailure(t.id, { error: "crash", outcome: "crashed", releaseClaim: true })).toBe(true);
    expect(status(b, t.id)).toBe("blocked");
    limit = 2;
    expect(b.recomputeReady()).toBe(1); // limit 2 > 1 failure; newest blocked/unblocked event is unblocked
    expect(status(b, t.id)).toBe("ready");
  });
});

describe("recompute_ready: Todo holds a card a person put there", () => {
  it("a parentless card moved to Todo stays there across any number of ticks (it used to be promoted and dispatched)", () => {
    const b = board();
    const t = b.createTask({ title: "not yet", assignee: "coder" });
    expect(b.moveTask(t.id, { status: "todo" }).task.status).toBe("todo");
    for (let i = 0; i < 5; i++) expect(b.recomputeReady()).toBe(0);
    expect(status(b, t.id)).toBe("todo");
    expect(b.claimTask(t.id)).toBeNull();
    // Comments, edits and reassignments do not unpark it.
    b.addComment(t.id, "alice", "later");
    b.updateTask(t.id, { title: "not yet, really" });
    b.assignTask(t.id, "writer");
    expect(b.recomputeReady()).toBe(0);
    expect(status(b, t.id)).toBe("todo");
  });

  it("a card with every parent done, moved to Todo, is held too; new parents finishing or unlinks do not release it", () => {
    const b = board();
    const p1 = b.createTask({ title: "p1" });
    b.completeTask(p1.id);
    const c = b.createTask({ title: "child", parents: [p1.id] });
    expect(status(b, c.id)).toBe("ready");
    b.setStatusDirect(c.id, "todo");
    expect(b.recomputeReady()).toBe(0);
    const p2 = b.createTask({ title: "p2" });
    b.linkTasks(p2.id, c.id);
    b.completeTask(p2.id);
    b.unlinkTasks(p1.id, c.id);
    expect(b.recomputeReady()).toBe(0);
    expect(status(b, c.id)).toBe("todo");
  });

  it("a parked card leaves Todo only when someone moves it: drag to Ready, or promote", () => {
    const b = board();
    const dragged = b.createTask({ title: "dragged" });
    const promoted = b.createTask({ title: "promoted" });
    for (const t of [dragged, promoted]) b.setStatusDirect(t.id, "todo");
    b.moveTask(dragged.id, { status: "ready" });
    expect(b.promoteTask(promoted.id, { actor: "ops" }).ok).toBe(true);
    expect([status(b, dragged.id), status(b, promoted.id)]).toEqual(["ready", "ready"]);
  });

  it("once moved on, a formerly parked card waits on dependencies as usual again", () => {
    const b = board();
    const t = b.createTask({ title: "x" });
    b.setStatusDirect(t.id, "todo");
    b.promoteTask(t.id);
    const p = b.createTask({ title: "new parent" });
    expect(b.linkTasks(p.id, t.id).demoted).toBe(true);
    b.completeTask(p.id);
    expect(status(b, t.id)).toBe("ready");
  });

  it("dependency waits are still promoted: created under open parents, demoted by a link or a claim, unblocked early", () => {
    const b = board();
    const p = b.createTask({ title: "parent" });
    const created = b.createTask({ title: "created", parents: [p.id] });
    const linked = b.createTask({ title: "linked" });
    b.linkTasks(p.id, linked.id);
    const blocked = b.createTask({ title: "blocked", initial_status: "blocked", parents: [p.id] });
    b.unblockTask(blocked.id);
    const claimedEarly = b.createTask({ title: "claimed early", parents: [p.id] });
    setStatus(b, claimedEarly.id, "ready"); // a stray write; the claim re-checks parents and demotes it
    expect(b.claimTask(claimedEarly.id)).toBeNull();
    const ids = [created.id, linked.id, blocked.id, claimedEarly.id];
    expect(ids.map((id) => status(b, id))).toEqual(["todo", "todo", "todo", "todo"]);
    setStatus(b, p.id, "done");
    expect(b.recomputeReady()).toBe(4);
    expect(ids.map((id) => status(b, id))).toEqual(["ready", "ready", "ready", "ready"]);
  });

  it("a status event written automatically (Hermes' ancestor_reopened invalidation carries a reason) does not park", () => {
    const b = board();
    const t = b.createTask({ title: "x" });
    setStatus(b, t.id, "todo");
    boardInternals(b)
      .sqlite.prepare("INSERT INTO task_events (task_id, kind, payload, created_at) VALUES (?, 'status', ?, ?)")
      .run(
        t.id,
        JSON.stringify({ status: "todo", reason: "ancestor_reopened", parent: "t_00000000" }),
        b.clock.seconds,
      );
    expect(b.recomputeReady()).toBe(1);
  });

  it("a pathological payload on the newest status event neither breaks the tick nor parks the card", () => {
    const b = board();
    const t = b.createTask({ title: "x" });
    setStatus(b, t.id, "todo");
    const deep = `${'{"a":'.repeat(50_000)}1${"}".repeat(50_000)}`;
    boardInternals(b)
      .sqlite.prepare("INSERT INTO task_events (task_id, kind, payload, created_at) VALUES (?, 'status', ?, ?)")
      .run(t.id, deep, b.clock.seconds);
    expect(b.recomputeReady()).toBe(1);
  });
});

describe("promote_task", () => {
  it("promote: a stuck todo task with no parents goes ready with a promoted_manual event", () => {
    const b = board();
    const t = b.createTask({ title: "x" });
    setStatus(b, t.id, "todo");
    expect(b.promoteTask(t.id, { actor: "ops", reason: "stuck after manual edit" })).toEqual({ ok: true, error: null });
    expect(status(b, t.id)).toBe("ready");
    expect(lastEvent(b, t.id)).toMatchObject({
      kind: "promoted_manual",
      payload: { actor: "ops", reason: "stuck after manual edit" },
    });
  });

  it("promote: the audit event defaults to actor user and reason null", () => {
    const b = board();
    const t = b.createTask({ title: "x" });
    setStatus(b, t.id, "todo");
    b.promoteTask(t.id);
    expect(lastEvent(b, t.id)?.payload).toEqual({ actor: "user", reason: null });
  });

  it("promote: refuses unsatisfied parents, with no force bypass (B fix)", () => {
    const b = board();
    const p = b.createTask({ title: "parent" });
    const c = b.createTask({ title: "child", parents: [p.id] });
    expect(b.promoteTask(c.id, { actor: "ops" })).toEqual({
      ok: false,
      error: `unsatisfied parent dependencies: ${p.id} (ready) (the ready -> running claim re-checks parents, so promotion cannot bypass them; finish or unlink them first)`,
    });
    expect(status(b, c.id)).toBe("todo");
    expect(kinds(b, c.id)).toEqual(["created"]);
  });

  it("promote: archived parents satisfy the check", () => {
    const b = board();
    const p = b.createTask({ title: "parent" });
    const c = b.createTask({ title: "child", parents: [p.id] });
    setStatus(b, p.id, "archived");
    expect(b.promoteTask(c.id)).toEqual({ ok: true, error: null });
  });

  it("promote: does not change the assignee", () => {
    const b = board();
    const t = b.createTask({ title: "x", assignee: "alice" });
    setStatus(b, t.id, "todo");
    b.promoteTask(t.id);
    expect(b.getTask(t.id)?.assignee).toBe("alice");
  });

  it("promote: dry run reports success but changes nothing", () => {
    const b = board();
    const t = b.createTask({ title: "x" });
    setStatus(b, t.id, "todo");
    expect(b.promoteTask(t.id, { dryRun: true })).toEqual({ ok: true, error: null });
    expect(status(b, t.id)).toBe("todo");
    expect(kinds(b, t.id)).toEqual(["created"]);
  });

  it("promote: dry run reports an unsatisfied dependency", () => {
    const b = board();
    const p = b.createTask({ title: "parent" });
    const c = b.createTask({ title: "child", parents: [p.id] });
    const r = b.promoteTask(c.id, { dryRun: true });
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/^unsatisfied parent dependencies: /);
  });

  it.each(["ready", "running", "done", "triage", "scheduled", "review", "archived"])(
    "promote: refuses a task in %s",
    (s) => {
      const b = board();
      const t = b.createTask({ title: "x" });
      setStatus(b, t.id, s);
      expect(b.promoteTask(t.id)).toEqual({
        ok: false,
        error: `task ${t.id} is '${s}'; promote only applies to 'todo' or 'blocked'`,
      });
      expect(status(b, t.id)).toBe(s);
    },
  );

  it("promote: refuses an unknown task", () => {
    expect(board().promoteTask("t_missing0")).toEqual({ ok: false, error: "task t_missing0 not found" });
  });

  it("promote: a blocked task (even an explicit block) can be promoted by an operator", () => {
    const b = board();
    const t = b.createTask({ title: "x" });
    b.blockTask(t.id, { reason: "waiting" });
    expect(b.promoteTask(t.id, { actor: "ops" })).toEqual({ ok: true, error: null });
    expect(status(b, t.id)).toBe("ready");
    expect(kinds(b, t.id)).toEqual(["created", "blocked", "promoted_manual"]);
  });
});
