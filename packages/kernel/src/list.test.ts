import { describe, expect, it } from "vitest";
import { taskFromRow } from "./rows.ts";
import { boardInternals, rawSql, type TestBoard } from "./testing/index.ts";
import { kernelError, useTestBoards } from "./testing/helpers.ts";

// Spec §2.1 (get_task, list_tasks filters and order_by, parent_ids/child_ids/parent_results);
// Hermes tests: test_kanban_db.py (order_by, tenant/session/workflow filters, archived hidden).

const board = useTestBoards();
const setStatus = async (b: TestBoard, id: string, status: string) =>
  await rawSql(b).run("UPDATE tasks SET status = ? WHERE id = ?", status, id);
const titles = (tasks: { title: string }[]) => tasks.map((t) => t.title);

describe("get", () => {
  it("get: an unknown id reads as null; requireTask refuses it with NOT_FOUND", async () => {
    const b = board();
    expect(await b.getTask("t_missing0")).toBeNull();
    await expect(b.requireTask("t_missing0")).rejects.toThrow(kernelError("NOT_FOUND", "task t_missing0 not found"));
  });

  it("get: returns the task with its (empty) warning badge", async () => {
    const b = board();
    const t = await b.createTask({ title: "x" });
    expect(await b.getTask(t.id)).toMatchObject({ id: t.id, title: "x", status: "ready", warnings: null });
  });
});

describe("task rows", () => {
  it("reading rows as arrays gives the same task as reading them as objects, every column included", async () => {
    const b = board();
    const parent = await b.createTask({
      title: "p",
      assignee: "w",
      tenant: "acme",
      skills: ["a", "b"],
      max_retries: 3,
      body: "long body",
    });
    const claimed = await b.claimTask(parent.id, { claimer: "host:1" });
    expect(claimed).not.toBeNull();
    const asObject = taskFromRow(
      (await rawSql(b).get("SELECT * FROM tasks WHERE id = ?", parent.id)) as Record<string, unknown>,
    );
    expect(await boardInternals(b).ctx.task("SELECT * FROM tasks WHERE id = ?", parent.id)).toEqual(asObject);
    // The claim's RETURNING row is the row as stored.
    expect(claimed).toEqual(asObject);
    expect(asObject).toMatchObject({
      status: "running",
      claim_lock: "host:1",
      skills: ["a", "b"],
      max_retries: 3,
      tenant: "acme",
    });
  });

  it("a later column of the same name wins (a cut body), and legacy column names still read", async () => {
    const b = board();
    const t = await b.createTask({ title: "x", body: "abcdef" });
    expect(
      (await boardInternals(b).ctx.task("SELECT t.*, substr(t.body, 1, 3) AS body FROM tasks t WHERE t.id = ?", t.id))
        ?.body,
    ).toBe("abc");
    const legacy = await boardInternals(b).ctx.task(
      "SELECT id, title, status, 4 AS spawn_failures, 'boom' AS last_spawn_error FROM tasks WHERE id = ?",
      t.id,
    );
    expect(legacy).toMatchObject({
      id: t.id,
      consecutive_failures: 4,
      last_failure_error: "boom",
      assignee: null,
      skills: null,
    });
    expect(await boardInternals(b).ctx.tasks("SELECT * FROM tasks WHERE id = ?", "t_nothere")).toEqual([]);
  });
});

describe("list: archived and status", () => {
  it("list: archived tasks are hidden by default", async () => {
    const b = board();
    await b.createTask({ title: "live" });
    const gone = await b.createTask({ title: "gone" });
    await b.archiveTask(gone.id);
    expect(titles(await b.listTasks())).toEqual(["live"]);
  });

  it("list: include_archived shows archived tasks too", async () => {
    const b = board();
    await b.createTask({ title: "live" });
    b.clock.advance(1);
    const gone = await b.createTask({ title: "gone" });
    await b.archiveTask(gone.id);
    expect(titles(await b.listTasks({ include_archived: true }))).toEqual(["live", "gone"]);
  });

  it("list: filtering on status archived lists only archived tasks without include_archived", async () => {
    const b = board();
    await b.createTask({ title: "live" });
    const gone = await b.createTask({ title: "gone" });
    await b.archiveTask(gone.id);
    expect(titles(await b.listTasks({ status: "archived" }))).toEqual(["gone"]);
  });

  it("list: a status filter returns only that status", async () => {
    const b = board();
    const p = await b.createTask({ title: "parent" });
    await b.createTask({ title: "child", parents: [p.id] });
    await b.createTask({ title: "idea", triage: true });
    expect(titles(await b.listTasks({ status: "todo" }))).toEqual(["child"]);
    expect(titles(await b.listTasks({ status: "triage" }))).toEqual(["idea"]);
    expect(titles(await b.listTasks({ status: "ready" }))).toEqual(["parent"]);
  });

  it("list: refuses an unknown status, naming every valid one", async () => {
    await expect(board().listTasks({ status: "doing" })).rejects.toThrow(
      kernelError(
        "INVALID_INPUT",
        "status must be one of ['triage', 'todo', 'scheduled', 'ready', 'running', 'blocked', 'review', 'done', 'archived']",
      ),
    );
  });
});

describe("list: filters", () => {
  it("list: the assignee filter is case-insensitive (profiles are canonical lowercase)", async () => {
    const b = board();
    await b.createTask({ title: "a", assignee: "Alice" });
    await b.createTask({ title: "b", assignee: "bob" });
    await b.createTask({ title: "u" });
    expect(titles(await b.listTasks({ assignee: "ALICE " }))).toEqual(["a"]);
    expect(titles(await b.listTasks({ assignee: "alice" }))).toEqual(["a"]);
  });

  it("list: the tenant filter scopes listings to one tenant", async () => {
    const b = board();
    await b.createTask({ title: "acme 1", tenant: "acme" });
    b.clock.advance(1);
    await b.createTask({ title: "acme 2", tenant: "acme" });
    await b.createTask({ title: "globex", tenant: "globex" });
    await b.createTask({ title: "none" });
    expect(titles(await b.listTasks({ tenant: "acme" }))).toEqual(["acme 1", "acme 2"]);
    expect(titles(await b.listTasks({ tenant: "globex" }))).toEqual(["globex"]);
    expect(await b.listTasks()).toHaveLength(4);
  });

  it("list: the session_id filter returns the tasks a session created", async () => {
    const b = board();
    await b.createTask({ title: "mine", session_id: "acp-1" });
    await b.createTask({ title: "theirs", session_id: "acp-2" });
    await b.createTask({ title: "cli" });
    expect(titles(await b.listTasks({ session_id: "acp-1" }))).toEqual(["mine"]);
  });

  it("list: tenant and session filters compose with AND, not replace", async () => {
    const b = board();
    await b.createTask({ title: "both", tenant: "scarf:foo", session_id: "acp-x" });
    await b.createTask({ title: "tenant only", tenant: "scarf:foo", session_id: "acp-y" });
    await b.createTask({ title: "session only", tenant: "other", session_id: "acp-x" });
    expect(titles(await b.listTasks({ tenant: "scarf:foo", session_id: "acp-x" }))).toEqual(["both"]);
  });

  it("list: filters on workflow_template_id and current_step_key, alone and together", async () => {
    const b = board();
    await b.createTask({ title: "tpl draft", workflow_template_id: "tpl", current_step_key: "draft" });
    b.clock.advance(1);
    await b.createTask({ title: "tpl review", workflow_template_id: "tpl", current_step_key: "review" });
    await b.createTask({ title: "other draft", workflow_template_id: "other", current_step_key: "draft" });
    await b.createTask({ title: "plain" });
    expect(titles(await b.listTasks({ workflow_template_id: "tpl" }))).toEqual(["tpl draft", "tpl review"]);
    expect(titles(await b.listTasks({ current_step_key: "draft", order_by: "title" }))).toEqual([
      "other draft",
      "tpl draft",
    ]);
    expect(titles(await b.listTasks({ workflow_template_id: "tpl", current_step_key: "review" }))).toEqual([
      "tpl review",
    ]);
  });

  it("list: blank filter values are ignored", async () => {
    const b = board();
    await b.createTask({ title: "a", tenant: "acme" });
    await b.createTask({ title: "b" });
    expect(await b.listTasks({ tenant: "", assignee: "", session_id: null, status: "" })).toHaveLength(2);
  });

  it("list: search matches id, title, body, assignee and tenant case-insensitively, with LIKE wildcards escaped", async () => {
    const b = board();
    const t = await b.createTask({ title: "Fix LOGIN bug" });
    await b.createTask({ title: "other", body: "see the login form" });
    await b.createTask({ title: "assigned", assignee: "loginbot" });
    await b.createTask({ title: "100% done" });
    await b.createTask({ title: "plain" });
    expect((await b.listTasks({ search: "login", order_by: "title" })).map((x) => x.title)).toEqual([
      "Fix LOGIN bug",
      "assigned",
      "other",
    ]);
    expect(titles(await b.listTasks({ search: t.id }))).toEqual(["Fix LOGIN bug"]);
    expect(titles(await b.listTasks({ search: "%" }))).toEqual(["100% done"]);
  });

  it("list: limit caps the rows; a limit below 1 is refused", async () => {
    const b = board();
    for (let i = 0; i < 5; i++) await b.createTask({ title: `t${i}` });
    expect(await b.listTasks({ limit: 2 })).toHaveLength(2);
    await expect(b.listTasks({ limit: 0 })).rejects.toThrow(
      kernelError("INVALID_INPUT", "limit must be an integer >= 1"),
    );
  });
});

describe("list: order_by", () => {
  /** Four tasks with distinct created_at, priority, status, assignee, title and start times. */
  async function seeded(): Promise<TestBoard> {
    const b = board();
    const c = await b.createTask({ title: "charlie", priority: 1, assignee: "zed" }); // created first
    b.clock.advance(10);
    const a = await b.createTask({ title: "alpha", priority: 5, assignee: "amy" });
    b.clock.advance(10);
    await b.createTask({ title: "bravo", priority: 5, assignee: "mia" });
    b.clock.advance(10);
    const d = await b.createTask({ title: "delta", priority: 0, assignee: "bob" });
    await setStatus(b, d.id, "blocked");
    // charlie started long ago, alpha recently; bravo and delta never started.
    await rawSql(b).run("UPDATE tasks SET started_at = ? WHERE id = ?", 100, c.id);
    await rawSql(b).run("UPDATE tasks SET started_at = ? WHERE id = ?", 200, a.id);
    return b;
  }

  it("list: the default order is priority DESC, then created_at ASC", async () => {
    expect(titles(await (await seeded()).listTasks())).toEqual(["alpha", "bravo", "charlie", "delta"]);
  });

  it.each([
    ["created", ["charlie", "alpha", "bravo", "delta"]],
    ["created-desc", ["delta", "bravo", "alpha", "charlie"]],
    ["priority", ["alpha", "bravo", "charlie", "delta"]],
    // Hermes' `priority-desc` sorts ascending (sic); kept because callers depend on the name.
    ["priority-desc", ["delta", "charlie", "alpha", "bravo"]],
    ["status", ["delta", "charlie", "alpha", "bravo"]],
    ["assignee", ["alpha", "delta", "bravo", "charlie"]],
    ["title", ["alpha", "bravo", "charlie", "delta"]],
    // Most recently started first, never-started last (newest created first among them).
    ["updated", ["alpha", "charlie", "delta", "bravo"]],
  ])("list: order_by %s", async (order, expected) => {
    expect(titles(await (await seeded()).listTasks({ order_by: order }))).toEqual(expected);
  });

  it("list: refuses an unknown order_by, naming the valid ones", async () => {
    await expect(board().listTasks({ order_by: "random" })).rejects.toThrow(
      kernelError(
        "INVALID_INPUT",
        "order_by must be one of created, created-desc, priority, priority-desc, status, assignee, title, updated",
      ),
    );
  });

  it("list: created breaks created_at ties by id", async () => {
    const b = board({
      ids: (() => {
        const ids = ["t_0000000c", "t_0000000a", "t_0000000b"];
        return { taskId: () => ids.shift() ?? "t_ffffffff" };
      })(),
    });
    for (const title of ["c", "a", "b"]) await b.createTask({ title });
    expect(titles(await b.listTasks({ order_by: "created" }))).toEqual(["a", "b", "c"]);
    expect(titles(await b.listTasks({ order_by: "created-desc" }))).toEqual(["c", "b", "a"]);
  });
});

describe("graph reads", () => {
  it("parent_ids and child_ids are sorted by id", async () => {
    const ids = ["t_000000p2", "t_000000p1", "t_000000c2", "t_000000c1"];
    const b = board({ ids: { taskId: () => ids.shift() ?? "t_ffffffff" } });
    const p2 = await b.createTask({ title: "p2" });
    const p1 = await b.createTask({ title: "p1" });
    const c2 = await b.createTask({ title: "c2", parents: [p2.id, p1.id] });
    const c1 = await b.createTask({ title: "c1", parents: [p2.id] });
    expect(await b.parentIds(c2.id)).toEqual(["t_000000p1", "t_000000p2"]);
    expect(await b.childIds(p2.id)).toEqual([c1.id, c2.id].sort());
    expect(await b.childIds(c1.id)).toEqual([]);
  });

  it("parent_results lists only done parents with their results, oldest completion first", async () => {
    const b = board();
    const late = await b.createTask({ title: "late" });
    const early = await b.createTask({ title: "early" });
    const open = await b.createTask({ title: "open" });
    const child = await b.createTask({ title: "child", parents: [late.id, early.id, open.id] });
    await b.completeTask(early.id, { result: "early result" });
    b.clock.advance(5);
    await b.completeTask(late.id, { result: "late result" });
    expect(await b.parentResults(child.id)).toEqual([
      [early.id, "early result"],
      [late.id, "late result"],
    ]);
  });
});
