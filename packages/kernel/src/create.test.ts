import path from "node:path";
import { describe, expect, it } from "vitest";
import { type CreateTaskInput, parseWorkspaceSpec } from "./create.ts";
import type { IdSource } from "./ids.ts";
import { rawSql, type TestBoard } from "./testing/index.ts";
import { openTestBoardAgain } from "./testing/test-board.ts";
import { mapInOrder, kernelError, useTestBoards } from "./testing/helpers.ts";

// Spec §2.1 (create_task), §1.4 (ids), §1.5 (initial statuses), §1.7 (`created`/`blocked` payloads);
// Hermes tests: test_kanban_db.py and test_kanban_core_functionality.py (create, skills, idempotency).

const board = useTestBoards();
/** An id source that hands out the given ids in order (to force legacy ids and collisions). */
function idSequence(...ids: string[]): IdSource {
  let i = 0;
  return {
    taskId: () => {
      const id = ids[Math.min(i, ids.length - 1)];
      i++;
      if (id === undefined) throw new Error("idSequence needs at least one id");
      return id;
    },
  };
}
const setStatus = async (b: TestBoard, id: string, status: string) =>
  await rawSql(b).run("UPDATE tasks SET status = ? WHERE id = ?", status, id);
const kinds = async (b: TestBoard, id: string) => (await b.listEvents(id)).map((e) => e.kind);
const taskCount = async (b: TestBoard) => (await rawSql(b).get<{ n: number }>("SELECT count(*) AS n FROM tasks"))?.n;

describe("create: defaults and validation", () => {
  it("create: a task with no parents starts ready, with Hermes' column defaults", async () => {
    const b = board({ ids: idSequence("t_0000beef") });
    const t = await b.createTask({ title: "write the report" });
    expect(t).toEqual({
      id: "t_0000beef",
      title: "write the report",
      body: null,
      assignee: null,
      status: "ready",
      priority: 0,
      created_by: null,
      created_at: b.clock.seconds,
      started_at: null,
      completed_at: null,
      workspace_kind: "scratch",
      workspace_path: null,
      branch_name: null,
      claim_lock: null,
      claim_expires: null,
      tenant: null,
      result: null,
      idempotency_key: null,
      consecutive_failures: 0,
      worker_pid: null,
      last_failure_error: null,
      max_runtime_seconds: null,
      last_heartbeat_at: null,
      current_run_id: null,
      workflow_template_id: null,
      current_step_key: null,
      project_id: null,
      provider_override: null,
      skills: null,
      max_retries: null,
      model_override: null,
      session_id: null,
      warnings: null,
      requires: [],
    });
    expect(await b.getTask(t.id)).toEqual(t);
    expect(await b.listRuns(t.id)).toEqual([]);
  });

  it("create: default ids are t_ + 8 lowercase hex", async () => {
    const b = board();
    const ids = await mapInOrder([...Array(20).keys()], async () => (await b.createTask({ title: "x" })).id);
    for (const id of ids) expect(id).toMatch(/^t_[0-9a-f]{8}$/);
    expect(new Set(ids).size).toBe(20);
  });

  it("create: retries once on an id collision and takes the next id", async () => {
    const b = board({ ids: idSequence("t_aaaaaaaa", "t_aaaaaaaa", "t_bbbbbbbb") });
    expect((await b.createTask({ title: "first" })).id).toBe("t_aaaaaaaa");
    const second = await b.createTask({ title: "second" });
    expect(second.id).toBe("t_bbbbbbbb");
    expect((await b.getTask("t_aaaaaaaa"))?.title).toBe("first");
  });

  it("create: refuses after a second id collision and writes nothing", async () => {
    const b = board({ ids: idSequence("t_aaaaaaaa") });
    const first = await b.createTask({ title: "first" });
    await expect(b.createTask({ title: "second" })).rejects.toThrow(
      kernelError("WRONG_STATE", "task id collision on t_aaaaaaaa; try again"),
    );
    expect(await taskCount(b)).toBe(1);
    expect(await kinds(b, first.id)).toEqual(["created"]);
  });

  it("create: accepts short legacy ids (t_ + 4 hex) throughout get, parents, link and claim", async () => {
    const b = board({ ids: idSequence("t_ab12", "t_cd34", "t_ef56") });
    const parent = await b.createTask({ title: "legacy parent" });
    const child = await b.createTask({ title: "legacy child", parents: [parent.id] });
    const other = await b.createTask({ title: "other" });
    expect([parent.id, child.id, other.id]).toEqual(["t_ab12", "t_cd34", "t_ef56"]);
    expect(child.status).toBe("todo");
    expect(await b.parentIds("t_cd34")).toEqual(["t_ab12"]);
    await b.linkTasks("t_ab12", "t_ef56");
    expect((await b.getTask("t_ef56"))?.status).toBe("todo");
    await b.completeTask("t_ab12");
    expect((await b.getTask("t_cd34"))?.status).toBe("ready");
    expect((await b.claimTask("t_cd34"))?.status).toBe("running");
  });

  it("create: refuses a blank title (title is required)", async () => {
    const b = board();
    await expect(b.createTask({ title: "   " })).rejects.toThrow(kernelError("INVALID_INPUT", "title is required"));
    expect(await taskCount(b)).toBe(0);
  });

  it("create: strips the title", async () => {
    expect((await board().createTask({ title: "  padded  " })).title).toBe("padded");
  });

  it("create: canonicalises the assignee to trimmed lowercase; blank means unassigned", async () => {
    const b = board();
    expect((await b.createTask({ title: "a", assignee: "  Alice " })).assignee).toBe("alice");
    expect((await b.createTask({ title: "b", assignee: "  " })).assignee).toBeNull();
  });

  it("create: refuses an initial_status other than running or blocked", async () => {
    const b = board();
    const bad = { title: "x", initial_status: "ready" } as unknown as CreateTaskInput;
    await expect(b.createTask(bad)).rejects.toThrow(
      kernelError("INVALID_INPUT", "initial_status must be one of ['blocked', 'running']"),
    );
    expect(await taskCount(b)).toBe(0);
  });

  it("create: writes one created event with assignee, status, parents, tenant and workspace", async () => {
    const b = board();
    const p = await b.createTask({ title: "parent", tenant: "acme" });
    const t = await b.createTask({
      title: "child",
      assignee: "Bob",
      parents: [p.id],
      workspace_kind: "worktree",
      branch_name: "feat/x",
    });
    const events = await b.listEvents(t.id);
    expect(events).toEqual([
      {
        id: expect.any(Number),
        task_id: t.id,
        run_id: null,
        kind: "created",
        created_at: b.clock.seconds,
        payload: {
          assignee: "bob",
          status: "todo",
          parents: [p.id],
          tenant: "acme",
          workspace_kind: "worktree",
          workspace_path: null,
          branch_name: "feat/x",
        },
      },
    ]);
  });
});

describe("create: the answer is the stored row", () => {
  it("create: what create answers equals a fresh read, for a child with labels, skills, a tenant and a blocked start", async () => {
    const b = board();
    const p = await b.createTask({ title: "parent", tenant: "acme" });
    // The answer is the row the insert returned (no second read): nothing written after the insert
    // (links, labels, events, subscriptions) may be missing from it.
    const created = [
      await b.createTask({
        title: "child",
        body: "the body",
        assignee: "Bob",
        parents: [p.id],
        requires: ["gpu"],
        skills: ["review"],
        priority: 3,
        max_runtime_seconds: 600,
        created_by: "lead",
      }),
      await b.createTask({
        title: "parked",
        initial_status: "blocked",
        triage: true,
        workspace_kind: "dir",
        workspace_path: "/tmp/x",
      }),
      await b.createTask({ title: "sorted", triage: true, branch_name: "feat/y", workspace_kind: "worktree" }),
    ];
    for (const t of created) expect(await b.getTask(t.id)).toEqual(t);
  });
});

describe("create: initial status", () => {
  it("create: initial_status blocked parks the task with a sticky blocked event (actor = created_by)", async () => {
    const b = board();
    const t = await b.createTask({ title: "wait for me", initial_status: "blocked", created_by: "carol" });
    expect(t.status).toBe("blocked");
    const events = await b.listEvents(t.id);
    expect(events.map((e) => e.kind)).toEqual(["created", "blocked"]);
    expect(events[0]?.payload?.status).toBe("blocked");
    expect(events[1]?.payload).toEqual({ reason: "initial_status", status: "blocked", actor: "carol" });
    expect(await b.listRuns(t.id)).toEqual([]);
  });

  it("create: the initial blocked event names actor user when there is no created_by", async () => {
    const b = board();
    const t = await b.createTask({ title: "parked", initial_status: "blocked" });
    expect((await b.listEvents(t.id))[1]?.payload).toEqual({
      reason: "initial_status",
      status: "blocked",
      actor: "user",
    });
  });

  it("create: an initially blocked task is sticky: recompute_ready leaves it even with done parents; unblock frees it", async () => {
    const b = board();
    const p = await b.createTask({ title: "parent" });
    await setStatus(b, p.id, "done");
    const t = await b.createTask({ title: "parked child", parents: [p.id], initial_status: "blocked" });
    expect(t.status).toBe("blocked");
    for (let i = 0; i < 5; i++) expect(await b.recomputeReady()).toBe(0);
    expect((await b.getTask(t.id))?.status).toBe("blocked");
    expect((await b.unblockTask(t.id)).status).toBe("ready");
  });

  it("create: initial_status blocked wins over triage and over unfinished parents", async () => {
    const b = board();
    const p = await b.createTask({ title: "open parent" });
    expect((await b.createTask({ title: "x", triage: true, parents: [p.id], initial_status: "blocked" })).status).toBe(
      "blocked",
    );
  });

  it("create: triage=true starts in triage (never dispatched), whatever the parents", async () => {
    const b = board();
    const idea = await b.createTask({ title: "rough idea", triage: true });
    const p = await b.createTask({ title: "open parent" });
    const gated = await b.createTask({ title: "rough child", triage: true, parents: [p.id] });
    expect([idea.status, gated.status]).toEqual(["triage", "triage"]);
    expect(await b.recomputeReady()).toBe(0);
    expect(await b.claimTask(idea.id)).toBeNull();
    expect((await b.getTask(idea.id))?.status).toBe("triage");
  });
});

describe("create: parents and tenant", () => {
  it("create: a child of an unfinished parent starts todo and is linked", async () => {
    const b = board();
    const p = await b.createTask({ title: "parent" });
    const c = await b.createTask({ title: "child", parents: [p.id] });
    expect(c.status).toBe("todo");
    expect(await b.parentIds(c.id)).toEqual([p.id]);
    expect(await b.childIds(p.id)).toEqual([c.id]);
  });

  it("create: a child whose parents are all done starts ready", async () => {
    const b = board();
    const p1 = await b.createTask({ title: "p1" });
    const p2 = await b.createTask({ title: "p2" });
    await b.completeTask(p1.id);
    await b.completeTask(p2.id);
    expect((await b.createTask({ title: "child", parents: [p1.id, p2.id] })).status).toBe("ready");
  });

  it("create: one unfinished parent among done ones keeps the child todo", async () => {
    const b = board();
    const done = await b.createTask({ title: "done" });
    await b.completeTask(done.id);
    const open = await b.createTask({ title: "open" });
    expect((await b.createTask({ title: "child", parents: [done.id, open.id] })).status).toBe("todo");
  });

  it("create: a child of an archived parent starts todo (creation checks only done); recompute_ready then promotes it", async () => {
    const b = board();
    const p = await b.createTask({ title: "old parent" });
    await setStatus(b, p.id, "archived");
    const c = await b.createTask({ title: "child", parents: [p.id] });
    expect(c.status).toBe("todo");
    expect(await b.recomputeReady()).toBe(1);
    expect((await b.getTask(c.id))?.status).toBe("ready");
  });

  it("create: refuses unknown parents, naming every one, and writes nothing", async () => {
    const b = board();
    const p = await b.createTask({ title: "real" });
    await expect(b.createTask({ title: "child", parents: [p.id, "t_nope0001", "t_nope0002"] })).rejects.toThrow(
      kernelError("INVALID_INPUT", "unknown parent task(s): t_nope0001, t_nope0002"),
    );
    expect(await taskCount(b)).toBe(1);
    expect(await b.childIds(p.id)).toEqual([]);
  });

  it("create: de-duplicates parents and drops blank entries", async () => {
    const b = board();
    const p = await b.createTask({ title: "parent" });
    const c = await b.createTask({ title: "child", parents: [p.id, ` ${p.id} `, "", "  "] });
    expect(await b.parentIds(c.id)).toEqual([p.id]);
    expect((await b.listEvents(c.id))[0]?.payload?.parents).toEqual([p.id]);
  });

  it("create: an explicit tenant wins over the parents' tenant", async () => {
    const b = board();
    const p = await b.createTask({ title: "parent", tenant: "acme" });
    expect((await b.createTask({ title: "child", parents: [p.id], tenant: "globex" })).tenant).toBe("globex");
  });

  it("create: without a tenant the child inherits the first non-empty parent tenant, in parent order", async () => {
    const b = board();
    const none = await b.createTask({ title: "untenanted" });
    const acme = await b.createTask({ title: "acme", tenant: "acme" });
    const globex = await b.createTask({ title: "globex", tenant: "globex" });
    const c = await b.createTask({ title: "child", parents: [none.id, globex.id, acme.id] });
    expect(c.tenant).toBe("globex");
    expect((await b.listEvents(c.id))[0]?.payload?.tenant).toBe("globex");
    expect((await b.createTask({ title: "orphan", parents: [none.id] })).tenant).toBeNull();
  });
});

describe("create: idempotency keys", () => {
  it("create: an idempotency key returns the existing task, writes no event and ignores the other fields", async () => {
    const b = board();
    const first = await b.createTask({ title: "once", idempotency_key: "job-42", assignee: "alice" });
    b.clock.advance(10);
    const again = await b.createTask({ title: "twice", idempotency_key: "job-42", assignee: "bob", priority: 9 });
    expect(again.id).toBe(first.id);
    expect(again.title).toBe("once");
    expect(again.assignee).toBe("alice");
    expect(await taskCount(b)).toBe(1);
    expect(await kinds(b, first.id)).toEqual(["created"]);
  });

  it("create: an idempotency key matching only archived tasks creates a new task", async () => {
    const b = board();
    const old = await b.createTask({ title: "old", idempotency_key: "job-42" });
    await b.archiveTask(old.id);
    const fresh = await b.createTask({ title: "fresh", idempotency_key: "job-42" });
    expect(fresh.id).not.toBe(old.id);
    expect(fresh.idempotency_key).toBe("job-42");
    expect((await b.createTask({ title: "again", idempotency_key: "job-42" })).id).toBe(fresh.id);
  });

  it("create: an idempotency key still matches a done task (only archived ones are ignored)", async () => {
    const b = board();
    const t = await b.createTask({ title: "finished", idempotency_key: "k" });
    await b.completeTask(t.id);
    expect((await b.createTask({ title: "finished", idempotency_key: "k" })).id).toBe(t.id);
  });

  it("create: without an idempotency key identical creates never collide", async () => {
    const b = board();
    const a = await b.createTask({ title: "same" });
    const c = await b.createTask({ title: "same" });
    expect(a.id).not.toBe(c.id);
    expect((await b.createTask({ title: "same", idempotency_key: "  " })).idempotency_key).toBeNull();
    expect(await taskCount(b)).toBe(3);
  });

  it("create: an idempotent hit still validates the input first", async () => {
    const b = board();
    await b.createTask({ title: "once", idempotency_key: "k" });
    await expect(b.createTask({ title: "", idempotency_key: "k" })).rejects.toThrow(
      kernelError("INVALID_INPUT", "title is required"),
    );
  });

  it("create: two board connections on one file share the idempotency key", async () => {
    const b = board();
    const other = openTestBoardAgain(b, { clock: b.clock });
    try {
      const first = await b.createTask({ title: "once", idempotency_key: "cross" });
      expect((await other.createTask({ title: "once", idempotency_key: "cross" })).id).toBe(first.id);
    } finally {
      await other.close();
    }
    expect(await taskCount(b)).toBe(1);
  });
});

describe("create: idempotency keys are scoped per tenant", () => {
  it("create: another tenant's key neither returns that tenant's task nor drops this tenant's create", async () => {
    const b = board();
    const globex = await b.createTask({
      title: "globex payroll run",
      body: "globex secrets",
      tenant: "globex",
      idempotency_key: "nightly",
    });
    const acme = await b.createTask({ title: "acme nightly", tenant: "acme", idempotency_key: "nightly" });
    expect(acme.id).not.toBe(globex.id);
    expect([acme.title, acme.tenant, acme.body]).toEqual(["acme nightly", "acme", null]);
    expect(await kinds(b, acme.id)).toEqual(["created"]);
    // Each tenant's retry finds its own task.
    expect((await b.createTask({ title: "acme retry", tenant: "acme", idempotency_key: "nightly" })).id).toBe(acme.id);
    expect((await b.createTask({ title: "globex retry", tenant: "globex", idempotency_key: "nightly" })).id).toBe(
      globex.id,
    );
    expect(await taskCount(b)).toBe(2);
  });

  it("create: a tenant's key does not match the operator's (no-tenant) task with that key", async () => {
    const b = board();
    const operator = await b.createTask({ title: "operator job", idempotency_key: "k" });
    const acme = await b.createTask({ title: "acme job", tenant: "acme", idempotency_key: "k" });
    expect(acme.id).not.toBe(operator.id);
    expect(acme.tenant).toBe("acme");
  });

  it("create: with no tenant the key is looked up board-wide, as in Hermes (a retry whose task inherited a parent's tenant finds it)", async () => {
    const b = board();
    const parent = await b.createTask({ title: "acme parent", tenant: "acme" });
    const child = await b.createTask({ title: "child", parents: [parent.id], idempotency_key: "fan-out-1" });
    expect(child.tenant).toBe("acme");
    expect((await b.createTask({ title: "child", parents: [parent.id], idempotency_key: "fan-out-1" })).id).toBe(
      child.id,
    );
    expect(await taskCount(b)).toBe(2);
  });
});

describe("create: skills", () => {
  it("create: skills round-trip through get and appear in the created event", async () => {
    const b = board();
    const t = await b.createTask({ title: "x", skills: ["translation", "github-code-review"] });
    expect((await b.getTask(t.id))?.skills).toEqual(["translation", "github-code-review"]);
    expect((await b.listEvents(t.id))[0]?.payload?.skills).toEqual(["translation", "github-code-review"]);
  });

  it("create: no skills stays null (defaults only) and the created event has no skills key", async () => {
    const b = board();
    const t = await b.createTask({ title: "x" });
    expect(t.skills).toBeNull();
    expect((await b.listEvents(t.id))[0]?.payload).not.toHaveProperty("skills");
    expect(await rawSql(b).get("SELECT skills FROM tasks WHERE id = ?", t.id)).toEqual({
      skills: null,
    });
  });

  it("create: an empty skills list is kept as [] (explicitly none), not null", async () => {
    const b = board();
    const t = await b.createTask({ title: "x", skills: [] });
    expect((await b.getTask(t.id))?.skills).toEqual([]);
    expect(await rawSql(b).get("SELECT skills FROM tasks WHERE id = ?", t.id)).toEqual({
      skills: "[]",
    });
  });

  it("create: skills are stripped, de-duplicated in order and empties dropped", async () => {
    const t = await board().createTask({ title: "x", skills: ["  a ", "b", "a", "", "   ", "c", "b"] });
    expect(t.skills).toEqual(["a", "b", "c"]);
  });

  it("create: refuses a skill name containing a comma", async () => {
    const b = board();
    await expect(b.createTask({ title: "x", skills: ["a,b"] })).rejects.toThrow(
      kernelError("INVALID_INPUT", "skill name cannot contain comma: a,b"),
    );
    expect(await taskCount(b)).toBe(0);
  });

  it("create: refuses a skill that is a toolset name", async () => {
    const b = board();
    await expect(b.createTask({ title: "x", skills: ["translation", "web"] })).rejects.toThrow(
      kernelError(
        "INVALID_INPUT",
        "'web' is a toolset name, not skill name(s). Put toolsets in the assignee profile's toolsets config; skills name playbooks the worker loads.",
      ),
    );
    expect(await taskCount(b)).toBe(0);
  });

  it("create: names every toolset passed as a skill, matched case-insensitively, in one error", async () => {
    const b = board();
    let err: unknown;
    try {
      await b.createTask({ title: "x", skills: ["Web", "ok-skill", "terminal", "Browser"] });
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({
      code: "INVALID_INPUT",
      message:
        "'Web', 'terminal', 'Browser' are toolset names, not skill name(s). Put toolsets in the assignee profile's toolsets config; skills name playbooks the worker loads.",
      details: { toolsets: ["Web", "terminal", "Browser"] },
    });
  });
});

describe("create: workspace kinds and branch rules", () => {
  it("create: refuses an unknown workspace kind, naming the valid ones", async () => {
    const b = board();
    await expect(b.createTask({ title: "x", workspace_kind: "cloud" })).rejects.toThrow(
      kernelError("INVALID_INPUT", "workspace_kind must be one of ['scratch', 'worktree', 'dir'], got 'cloud'"),
    );
  });

  it("create: a worktree task persists its branch name", async () => {
    const t = await board().createTask({ title: "x", workspace_kind: "worktree", branch_name: "  feature/login  " });
    expect([t.workspace_kind, t.branch_name, t.workspace_path]).toEqual(["worktree", "feature/login", null]);
  });

  it("create: a branch name is only valid for worktree workspaces", async () => {
    const b = board();
    for (const kind of ["scratch", "dir"]) {
      await expect(
        b.createTask({ title: "x", workspace_kind: kind, workspace_path: "/srv/p", branch_name: "b" }),
      ).rejects.toThrow(kernelError("INVALID_INPUT", "branch_name is only valid for worktree workspaces"));
    }
    // A blank branch is no branch at all, so it is fine on any kind.
    expect((await b.createTask({ title: "x", branch_name: "   " })).branch_name).toBeNull();
  });

  it("create: refuses a branch name git could not use", async () => {
    await expect(
      board().createTask({ title: "x", workspace_kind: "worktree", branch_name: "has space" }),
    ).rejects.toThrow(kernelError("INVALID_INPUT", "invalid branch_name 'has space'"));
  });

  it("create: a dir workspace keeps its absolute path", async () => {
    const t = await board().createTask({ title: "x", workspace_kind: "dir", workspace_path: "/srv/project" });
    expect([t.workspace_kind, t.workspace_path]).toEqual(["dir", "/srv/project"]);
  });

  it("create: refuses a relative workspace path", async () => {
    await expect(
      board().createTask({ title: "x", workspace_kind: "dir", workspace_path: "../../tmp/attacker" }),
    ).rejects.toThrow(
      kernelError(
        "INVALID_INPUT",
        "non-absolute workspace_path '../../tmp/attacker'; use an absolute path (relative paths are ambiguous against the dispatcher's working directory)",
      ),
    );
  });

  it("create: a dir workspace without a path (and no board default) is refused", async () => {
    await expect(board().createTask({ title: "x", workspace_kind: "dir" })).rejects.toThrow(
      kernelError("INVALID_INPUT", "workspace_kind=dir needs an absolute workspace_path (or a board default workdir)"),
    );
  });

  it("create: a scratch task never inherits the board's default workdir (#28818)", async () => {
    const t = await board({ defaultWorkdir: "/home/me/repo" }).createTask({ title: "x" });
    expect([t.workspace_kind, t.workspace_path]).toEqual(["scratch", null]);
  });

  it("create: dir and worktree tasks without a path inherit the board's default workdir", async () => {
    const b = board({ defaultWorkdir: "/home/me/repo" });
    expect((await b.createTask({ title: "d", workspace_kind: "dir" })).workspace_path).toBe("/home/me/repo");
    expect((await b.createTask({ title: "w", workspace_kind: "worktree" })).workspace_path).toBe("/home/me/repo");
  });

  it("create: an explicit workspace path wins over the board default", async () => {
    const t = await board({ defaultWorkdir: "/home/me/repo" }).createTask({
      title: "x",
      workspace_kind: "dir",
      workspace_path: "/srv/other",
    });
    expect(t.workspace_path).toBe("/srv/other");
  });

  it("create: a worktree without a path on a board with no default stays null (resolved at dispatch)", async () => {
    expect((await board().createTask({ title: "x", workspace_kind: "worktree" })).workspace_path).toBeNull();
  });
});

describe("create: who chooses a workspace path", () => {
  it("create: refuses a caller-chosen scratch path with WORKSPACE_PATH_NOT_ALLOWED and writes nothing", async () => {
    const b = board();
    const victim = await b.createTask({ title: "victim" });
    await b.setWorkspace(victim.id, path.join(b.dir, "workspaces", victim.id));
    for (const input of [
      { workspace_kind: "scratch", workspace_path: path.join(b.dir, "workspaces", victim.id) },
      { workspace_path: "/srv/anything" }, // scratch is the default kind
      parseWorkspaceSpec("scratch:/srv/anything"),
    ]) {
      await expect(b.createTask({ title: "x", ...input })).rejects.toThrow(
        kernelError(
          "WORKSPACE_PATH_NOT_ALLOWED",
          "a scratch workspace's path is chosen by the dispatcher (a fresh directory per task); drop workspace_path, or use a dir: workspace for a directory of your own",
        ),
      );
    }
    expect(await taskCount(b)).toBe(1);
  });

  it("create: the dispatcher, not the caller, records a scratch task's path (setWorkspace after the claim)", async () => {
    const b = board();
    const t = await b.createTask({ title: "x", assignee: "coder" });
    expect(t.workspace_path).toBeNull();
    await b.claimTask(t.id);
    await b.setWorkspace(t.id, "/home/k/kanban/workspaces/x");
    expect((await b.getTask(t.id))?.workspace_path).toBe("/home/k/kanban/workspaces/x");
  });

  it("create: with allowed roots, a dir or worktree path must lie under one of them (the root itself counts)", async () => {
    const b = board();
    const rules = { allowedWorkspaceRoots: ["/srv/tenants/acme", "/data/shared/"] };
    for (const p of [
      "/srv/tenants/acme",
      "/srv/tenants/acme/app",
      "/data/shared/x/y",
      "/srv/tenants/acme/./a//b/",
      "/srv/tenants/acme/..hidden",
    ]) {
      expect(
        (await b.createTask({ title: "ok", workspace_kind: "dir", workspace_path: p }, rules)).workspace_path,
      ).toBe(p);
      expect(
        (await b.createTask({ title: "ok", workspace_kind: "worktree", workspace_path: p }, rules)).workspace_path,
      ).toBe(p);
    }
    const refused = (p: string) =>
      kernelError(
        "WORKSPACE_PATH_NOT_ALLOWED",
        `workspace path '${p}' is outside the workspace roots this server allows (config.json kanban.workspace_roots)`,
      );
    for (const p of [
      "/srv/tenants/acme/../globex",
      "/srv/tenants/acme/a/../../globex/app",
      "/srv/tenants/acmecorp",
      "/etc",
      "/",
      "/data",
    ]) {
      await expect(b.createTask({ title: "no", workspace_kind: "dir", workspace_path: p }, rules)).rejects.toThrow(
        refused(p),
      );
      await expect(b.createTask({ title: "no", workspace_kind: "worktree", workspace_path: p }, rules)).rejects.toThrow(
        refused(p),
      );
    }
  });

  it("create: with an empty list of roots, dir and worktree workspaces are refused and scratch still works", async () => {
    const b = board();
    const rules = { allowedWorkspaceRoots: [] };
    await expect(b.createTask({ title: "no", workspace_kind: "dir", workspace_path: "/srv/p" }, rules)).rejects.toThrow(
      kernelError(
        "WORKSPACE_PATH_NOT_ALLOWED",
        "dir workspaces are not enabled for this caller (no workspace roots are configured: config.json kanban.workspace_roots); use a scratch workspace",
      ),
    );
    expect((await b.createTask({ title: "scratch", assignee: "coder" }, rules)).workspace_kind).toBe("scratch");
    // A worktree with no path and no board default has nothing to confine yet (the dispatcher refuses it at spawn).
    expect((await b.createTask({ title: "wt", workspace_kind: "worktree" }, rules)).workspace_path).toBeNull();
  });

  it("create: the board's default workdir is held to the roots too, without echoing it", async () => {
    const b = board({ defaultWorkdir: "/home/operator/repo" });
    await expect(
      b.createTask({ title: "no", workspace_kind: "dir" }, { allowedWorkspaceRoots: ["/srv/tenants"] }),
    ).rejects.toThrow(
      kernelError(
        "WORKSPACE_PATH_NOT_ALLOWED",
        "the board's default workdir is outside the workspace roots this server allows (config.json kanban.workspace_roots)",
      ),
    );
    expect(
      (await b.createTask({ title: "ok", workspace_kind: "dir" }, { allowedWorkspaceRoots: ["/home/operator"] }))
        .workspace_path,
    ).toBe("/home/operator/repo");
  });

  it("create: without roots (the operator) a dir path may be anywhere, as before", async () => {
    const b = board();
    expect(
      (
        await b.createTask(
          { title: "x", workspace_kind: "dir", workspace_path: "/opt/elsewhere" },
          { allowedWorkspaceRoots: null },
        )
      ).workspace_path,
    ).toBe("/opt/elsewhere");
    expect(
      (await b.createTask({ title: "y", workspace_kind: "dir", workspace_path: "/opt/elsewhere" })).workspace_path,
    ).toBe("/opt/elsewhere");
  });
});

describe("create: per-task settings", () => {
  it("create: priority is stored as given (negative allowed); a non-integer is refused", async () => {
    const b = board();
    expect((await b.createTask({ title: "hi", priority: 7 })).priority).toBe(7);
    expect((await b.createTask({ title: "lo", priority: -3 })).priority).toBe(-3);
    await expect(b.createTask({ title: "x", priority: 1.5 })).rejects.toThrow(
      kernelError("INVALID_INPUT", "priority must be an integer"),
    );
  });

  it("create: persists max_runtime_seconds; null means no cap", async () => {
    const b = board();
    expect(
      (await b.getTask((await b.createTask({ title: "x", max_runtime_seconds: 7200 })).id))?.max_runtime_seconds,
    ).toBe(7200);
    expect((await b.createTask({ title: "y", max_runtime_seconds: null })).max_runtime_seconds).toBeNull();
  });

  it("create: refuses a max_runtime_seconds that is not a positive integer", async () => {
    const b = board();
    for (const v of [0, -5, 2.5]) {
      await expect(b.createTask({ title: "x", max_runtime_seconds: v })).rejects.toThrow(
        kernelError("INVALID_INPUT", "max_runtime_seconds must be an integer >= 1"),
      );
    }
  });

  it("create: persists max_retries (per-task breaker limit) and refuses non-positive values", async () => {
    const b = board();
    expect((await b.createTask({ title: "x", max_retries: 5 })).max_retries).toBe(5);
    await expect(b.createTask({ title: "y", max_retries: 0 })).rejects.toThrow(
      kernelError("INVALID_INPUT", "max_retries must be an integer >= 1"),
    );
  });

  it("create: persists a model override and reports it in the created event", async () => {
    const b = board();
    const t = await b.createTask({ title: "x", model_override: " claude-opus " });
    expect(t.model_override).toBe("claude-opus");
    expect((await b.listEvents(t.id))[0]?.payload?.model_override).toBe("claude-opus");
  });

  it("create: a blank model override is stored as null and left out of the created event", async () => {
    const b = board();
    const t = await b.createTask({ title: "x", model_override: "" });
    expect(t.model_override).toBeNull();
    expect((await b.listEvents(t.id))[0]?.payload).not.toHaveProperty("model_override");
  });

  it("create: stamps the originating session id; none by default", async () => {
    const b = board();
    expect((await b.createTask({ title: "x", session_id: "acp-123" })).session_id).toBe("acp-123");
    expect((await b.createTask({ title: "y" })).session_id).toBeNull();
  });

  it("create: the forward-compatible workflow_template_id and current_step_key are writable", async () => {
    const b = board();
    const t = await b.createTask({ title: "x", workflow_template_id: "tpl-review", current_step_key: "draft" });
    expect(await b.getTask(t.id)).toMatchObject({
      workflow_template_id: "tpl-review",
      current_step_key: "draft",
      status: "ready",
    });
  });

  it("create: stores body and created_by as given", async () => {
    const t = await board().createTask({ title: "x", body: "## spec\nmarkdown", created_by: "dashboard" });
    expect([t.body, t.created_by]).toEqual(["## spec\nmarkdown", "dashboard"]);
  });
});
