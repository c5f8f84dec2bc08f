import { afterEach, describe, expect, it } from "vitest";
import { boardInternals, createTestBoard, type TestBoard } from "../../testing/index.ts";

// The reads and transaction verbs the API reaches through Board since its SQL moved into the store.
// The API's router tests pin their output shapes; these pin what the API relies on directly.

const boards: TestBoard[] = [];
function board(): TestBoard {
  const b = createTestBoard();
  boards.push(b);
  return b;
}
afterEach(() => {
  for (const b of boards.splice(0)) b.cleanup();
});

function rowCount(b: TestBoard, sql: string, ...args: unknown[]): number {
  return (
    boardInternals(b)
      .sqlite.prepare(sql)
      .get(...args) as { n: number }
  ).n;
}

describe("claimWithWorkspace", () => {
  it("keeps no claim, run or event when the workspace step throws", () => {
    const b = board();
    const t = b.createTask({ title: "a", assignee: "w" });
    const events = rowCount(b, "SELECT COUNT(*) AS n FROM task_events WHERE task_id = ?", t.id);
    expect(() =>
      b.claimWithWorkspace(t.id, {}, (claimed) => {
        expect(claimed?.status).toBe("running");
        throw new Error("cannot create the directory");
      }),
    ).toThrow("cannot create the directory");
    const after = b.requireTask(t.id);
    expect(after.status).toBe("ready");
    expect(after.claim_lock).toBeNull();
    expect(after.current_run_id).toBeNull();
    expect(rowCount(b, "SELECT COUNT(*) AS n FROM task_runs WHERE task_id = ?", t.id)).toBe(0);
    expect(rowCount(b, "SELECT COUNT(*) AS n FROM task_events WHERE task_id = ?", t.id)).toBe(events);
  });

  it("commits the claim with what the callback wrote, and returns the callback's value", () => {
    const b = board();
    const t = b.createTask({ title: "a", assignee: "w" });
    const out = b.claimWithWorkspace(t.id, {}, (claimed) => {
      if (claimed === null) throw new Error("expected a claim");
      b.setWorkspace(claimed.id, "/tmp/ws-a");
      return { run: claimed.current_run_id };
    });
    const after = b.requireTask(t.id);
    expect(after.status).toBe("running");
    expect(after.workspace_path).toBe("/tmp/ws-a");
    expect(out.run).toBe(after.current_run_id);
  });

  it("hands null to the callback for a task that is not claimable", () => {
    const b = board();
    const t = b.createTask({ title: "a", initial_status: "blocked" });
    expect(b.claimWithWorkspace(t.id, {}, (claimed) => claimed)).toBeNull();
    expect(b.requireTask(t.id).status).toBe("blocked");
  });
});

describe("atomically", () => {
  it("undoes every verb of the callback when a later one throws", () => {
    const b = board();
    const t = b.createTask({ title: "a" });
    expect(() =>
      b.atomically(() => {
        b.updateTask(t.id, { priority: 7 });
        b.setStatusDirect(t.id, "no-such-status");
      }),
    ).toThrow();
    expect(b.requireTask(t.id).priority).toBe(0);
  });
});

describe("link rows", () => {
  it("lists edges touching the given ids, and a task's parents and children by id", () => {
    const b = board();
    const p = b.createTask({ title: "parent", tenant: "acme" });
    const c1 = b.createTask({ title: "child one", parents: [p.id], tenant: "acme" });
    const c2 = b.createTask({ title: "child two", parents: [p.id] }); // inherits the parent's tenant
    const lone = b.createTask({ title: "lone" });
    const edges = b.linkEdges([c1.id, lone.id]);
    expect(edges).toEqual([{ parent_id: p.id, child_id: c1.id }]);
    const all = b.linkEdges([p.id]);
    expect(all).toEqual([c1.id, c2.id].sort().map((c) => ({ parent_id: p.id, child_id: c })));
    expect(b.linkedParents(c1.id)).toEqual([
      { id: p.id, title: "parent", status: p.status, assignee: null, tenant: "acme" },
    ]);
    const children = b.linkedChildren(p.id);
    expect(children.map((c) => c.id)).toEqual([c1.id, c2.id].sort());
    expect(children.find((c) => c.id === c2.id)).toMatchObject({ title: "child two", tenant: "acme", result: null });
  });
});

describe("tenant reads", () => {
  it("tenantTaskIds holds exactly one tenant's tasks", () => {
    const b = board();
    const a = b.createTask({ title: "a", tenant: "acme" });
    b.createTask({ title: "b", tenant: "other" });
    b.createTask({ title: "c" });
    expect([...b.tenantTaskIds("acme")]).toEqual([a.id]);
    expect(b.tenantTaskIds("nobody").size).toBe(0);
  });

  it("createdBySince needs the same profile, a creation at or after the start, and the same tenant", () => {
    const b = board();
    const start = b.now();
    const mine = b.createTask({ title: "mine", created_by: "coder", tenant: "acme" });
    const operator = b.createTask({ title: "no tenant", created_by: "coder" });
    expect(b.createdBySince(mine.id, "coder", start, "acme")).toBe(true);
    expect(b.createdBySince(mine.id, "coder", start + 1, "acme")).toBe(false);
    expect(b.createdBySince(mine.id, "reviewer", start, "acme")).toBe(false);
    expect(b.createdBySince(mine.id, "coder", start, "other")).toBe(false);
    expect(b.createdBySince(operator.id, "coder", start, null)).toBe(true);
    expect(b.createdBySince(operator.id, "coder", start, "acme")).toBe(false);
  });

  it("archivedScratchTasks lists only archived scratch tasks", () => {
    const b = board();
    const s = b.createTask({ title: "scratch" });
    const live = b.createTask({ title: "live scratch" });
    b.archiveTask(s.id);
    expect(b.requireTask(s.id).workspace_kind).toBe("scratch");
    expect(b.archivedScratchTasks().map((t) => t.id)).toEqual([s.id]);
    expect(b.archivedScratchTasks().some((t) => t.id === live.id)).toBe(false);
  });

  it("statusCounts counts archived tasks too, over the whole board or one tenant", () => {
    const b = board();
    b.createTask({ title: "a", tenant: "acme" });
    const gone = b.createTask({ title: "b", tenant: "acme" });
    b.createTask({ title: "c" });
    b.archiveTask(gone.id);
    const byStatus = (rows: { status: string; n: number }[]) => Object.fromEntries(rows.map((r) => [r.status, r.n]));
    expect(byStatus(b.statusCounts("acme"))).toEqual({ ready: 1, archived: 1 });
    expect(byStatus(b.statusCounts(null))).toEqual({ ready: 2, archived: 1 });
  });

  it("activeWorkers and statsFor see only the tenant's tasks", () => {
    const b = board();
    const a = b.createTask({ title: "a", tenant: "acme", assignee: "w" });
    const o = b.createTask({ title: "o", tenant: "other", assignee: "w" });
    b.claimTask(a.id);
    b.claimTask(o.id);
    expect(b.activeWorkers("acme").workers.map((w) => w.task_id)).toEqual([a.id]);
    expect(b.activeWorkers(null).count).toBe(2);
    expect(b.statsFor("acme").by_status).toEqual({ running: 1 });
    expect(b.statsFor("acme").by_assignee).toEqual({ w: { running: 1 } });
    expect(b.assigneesFor(["w"], "acme")).toEqual([{ name: "w", on_disk: true, counts: { running: 1 } }]);
  });
});

describe("liveEventRows", () => {
  it("reads events after an id, oldest first, with the task's tenant and assignee, at most `limit`", () => {
    const b = board();
    const start = b.latestEventId();
    const t = b.createTask({ title: "a", tenant: "acme", assignee: "w" });
    b.addComment(t.id, "me", "one");
    b.addComment(t.id, "me", "two");
    const rows = b.liveEventRows(start, 2);
    expect(rows).toHaveLength(2);
    expect(rows.map((r) => r.id)).toEqual([...rows.map((r) => r.id as number)].sort((x, y) => x - y));
    expect(rows[0]).toMatchObject({ task_id: t.id, tenant: "acme", assignee: "w" });
    const rest = b.liveEventRows(rows[1]?.id as number, 500);
    expect(rest.at(-1)?.id).toBe(b.latestEventId());
    expect(b.liveEventRows(b.latestEventId(), 500)).toEqual([]);
  });
});

describe("board view and pages", () => {
  it("boardView counts columns and decorates cards; columnPage and taskPage continue by cursor", () => {
    const b = board();
    const p = b.createTask({ title: "parent", priority: 5 });
    b.clock.advance(1);
    const c = b.createTask({ title: "child", parents: [p.id] });
    b.addComment(p.id, "me", "hello");
    for (let i = 0; i < 3; i++) {
      b.clock.advance(1); // distinct creation times: equal ones tie by (random) id
      b.createTask({ title: `r${i}` });
    }
    const view = b.boardView("default", {}, { doneLimit: 10, columnLimit: 2, scopeTenant: null });
    const ready = view.columns.find((col) => col.name === "ready");
    expect(ready?.total).toBe(4);
    expect(ready?.tasks.map((t) => t.title)).toEqual(["parent", "r0"]);
    const parentCard = ready?.tasks[0];
    expect(parentCard).toMatchObject({
      comment_count: 1,
      link_counts: { parents: 0, children: 1 },
      progress: { done: 0, total: 1 },
    });
    expect(view.columns.find((col) => col.name === "todo")?.tasks.map((t) => t.id)).toEqual([c.id]);
    expect(view.latest_event_id).toBe(b.latestEventId());

    const next = b.columnPage("ready", {}, { cursor: ready?.next_cursor, limit: 10 });
    expect(next.tasks.map((t) => t.title)).toEqual(["r1", "r2"]);
    expect(next.next_cursor).toBeNull();

    const first = b.taskPage({ order_by: "created" }, { limit: 3 });
    expect(first.tasks.map((t) => t.title)).toEqual(["parent", "child", "r0"]);
    const second = b.taskPage({ order_by: "created" }, { limit: 3, cursor: first.next_cursor });
    expect(second.tasks.map((t) => t.title)).toEqual(["r1", "r2"]);
    expect(second.next_cursor).toBeNull();
    expect(() => b.taskPage({ order_by: "title" }, { cursor: first.next_cursor })).toThrow(/ordered by 'created'/);
  });
});
