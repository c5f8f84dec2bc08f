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
  it("keeps no claim, run or event when the workspace step throws", async () => {
    const b = board();
    const t = await b.createTask({ title: "a", assignee: "w" });
    const events = rowCount(b, "SELECT COUNT(*) AS n FROM task_events WHERE task_id = ?", t.id);
    await expect(
      b.claimWithWorkspace(t.id, {}, (claimed) => {
        expect(claimed?.status).toBe("running");
        throw new Error("cannot create the directory");
      }),
    ).rejects.toThrow("cannot create the directory");
    const after = await b.requireTask(t.id);
    expect(after.status).toBe("ready");
    expect(after.claim_lock).toBeNull();
    expect(after.current_run_id).toBeNull();
    expect(rowCount(b, "SELECT COUNT(*) AS n FROM task_runs WHERE task_id = ?", t.id)).toBe(0);
    expect(rowCount(b, "SELECT COUNT(*) AS n FROM task_events WHERE task_id = ?", t.id)).toBe(events);
  });

  it("commits the claim with what the callback wrote, and returns the callback's value", async () => {
    const b = board();
    const t = await b.createTask({ title: "a", assignee: "w" });
    const out = await b.claimWithWorkspace(t.id, {}, async (claimed) => {
      if (claimed === null) throw new Error("expected a claim");
      await b.setWorkspace(claimed.id, "/tmp/ws-a");
      return { run: claimed.current_run_id };
    });
    const after = await b.requireTask(t.id);
    expect(after.status).toBe("running");
    expect(after.workspace_path).toBe("/tmp/ws-a");
    expect(out.run).toBe(after.current_run_id);
  });

  it("hands null to the callback for a task that is not claimable", async () => {
    const b = board();
    const t = await b.createTask({ title: "a", initial_status: "blocked" });
    expect(await b.claimWithWorkspace(t.id, {}, (claimed) => claimed)).toBeNull();
    expect((await b.requireTask(t.id)).status).toBe("blocked");
  });
});

describe("atomically", () => {
  it("undoes every verb of the callback when a later one throws", async () => {
    const b = board();
    const t = await b.createTask({ title: "a" });
    await expect(
      b.atomically(async () => {
        await b.updateTask(t.id, { priority: 7 });
        await b.setStatusDirect(t.id, "no-such-status");
      }),
    ).rejects.toThrow();
    expect((await b.requireTask(t.id)).priority).toBe(0);
  });
});

describe("link rows", () => {
  it("lists edges touching the given ids, and a task's parents and children by id", async () => {
    const b = board();
    const p = await b.createTask({ title: "parent", tenant: "acme" });
    const c1 = await b.createTask({ title: "child one", parents: [p.id], tenant: "acme" });
    const c2 = await b.createTask({ title: "child two", parents: [p.id] }); // inherits the parent's tenant
    const lone = await b.createTask({ title: "lone" });
    const edges = await b.linkEdges([c1.id, lone.id]);
    expect(edges).toEqual([{ parent_id: p.id, child_id: c1.id }]);
    const all = await b.linkEdges([p.id]);
    expect(all).toEqual([c1.id, c2.id].sort().map((c) => ({ parent_id: p.id, child_id: c })));
    expect(await b.linkedParents(c1.id)).toEqual([
      { id: p.id, title: "parent", status: p.status, assignee: null, tenant: "acme" },
    ]);
    const children = await b.linkedChildren(p.id);
    expect(children.map((c) => c.id)).toEqual([c1.id, c2.id].sort());
    expect(children.find((c) => c.id === c2.id)).toMatchObject({ title: "child two", tenant: "acme", result: null });
  });
});

describe("tenant reads", () => {
  it("tenantTaskIds holds exactly one tenant's tasks", async () => {
    const b = board();
    const a = await b.createTask({ title: "a", tenant: "acme" });
    await b.createTask({ title: "b", tenant: "other" });
    await b.createTask({ title: "c" });
    expect([...(await b.tenantTaskIds("acme"))]).toEqual([a.id]);
    expect((await b.tenantTaskIds("nobody")).size).toBe(0);
  });

  it("createdBySince needs the same profile, a creation at or after the start, and the same tenant", async () => {
    const b = board();
    const start = b.now();
    const mine = await b.createTask({ title: "mine", created_by: "coder", tenant: "acme" });
    const operator = await b.createTask({ title: "no tenant", created_by: "coder" });
    expect(await b.createdBySince(mine.id, "coder", start, "acme")).toBe(true);
    expect(await b.createdBySince(mine.id, "coder", start + 1, "acme")).toBe(false);
    expect(await b.createdBySince(mine.id, "reviewer", start, "acme")).toBe(false);
    expect(await b.createdBySince(mine.id, "coder", start, "other")).toBe(false);
    expect(await b.createdBySince(operator.id, "coder", start, null)).toBe(true);
    expect(await b.createdBySince(operator.id, "coder", start, "acme")).toBe(false);
  });

  it("archivedScratchTasks lists only archived scratch tasks", async () => {
    const b = board();
    const s = await b.createTask({ title: "scratch" });
    const live = await b.createTask({ title: "live scratch" });
    await b.archiveTask(s.id);
    expect((await b.requireTask(s.id)).workspace_kind).toBe("scratch");
    expect((await b.archivedScratchTasks()).map((t) => t.id)).toEqual([s.id]);
    expect((await b.archivedScratchTasks()).some((t) => t.id === live.id)).toBe(false);
  });

  it("statusCounts counts archived tasks too, over the whole board or one tenant", async () => {
    const b = board();
    await b.createTask({ title: "a", tenant: "acme" });
    const gone = await b.createTask({ title: "b", tenant: "acme" });
    await b.createTask({ title: "c" });
    await b.archiveTask(gone.id);
    const byStatus = (rows: { status: string; n: number }[]) => Object.fromEntries(rows.map((r) => [r.status, r.n]));
    expect(byStatus(await b.statusCounts("acme"))).toEqual({ ready: 1, archived: 1 });
    expect(byStatus(await b.statusCounts(null))).toEqual({ ready: 2, archived: 1 });
  });

  it("activeWorkers and statsFor see only the tenant's tasks", async () => {
    const b = board();
    const a = await b.createTask({ title: "a", tenant: "acme", assignee: "w" });
    const o = await b.createTask({ title: "o", tenant: "other", assignee: "w" });
    await b.claimTask(a.id);
    await b.claimTask(o.id);
    expect((await b.activeWorkers("acme")).workers.map((w) => w.task_id)).toEqual([a.id]);
    expect((await b.activeWorkers(null)).count).toBe(2);
    expect((await b.statsFor("acme")).by_status).toEqual({ running: 1 });
    expect((await b.statsFor("acme")).by_assignee).toEqual({ w: { running: 1 } });
    expect(await b.assigneesFor(["w"], "acme")).toEqual([{ name: "w", on_disk: true, counts: { running: 1 } }]);
  });
});

describe("liveEventRows", () => {
  it("reads events after an id, oldest first, with the task's tenant and assignee, at most `limit`", async () => {
    const b = board();
    const start = await b.latestEventId();
    const t = await b.createTask({ title: "a", tenant: "acme", assignee: "w" });
    await b.addComment(t.id, "me", "one");
    await b.addComment(t.id, "me", "two");
    const rows = await b.liveEventRows(start, 2);
    expect(rows).toHaveLength(2);
    expect(rows.map((r) => r.id)).toEqual([...rows.map((r) => r.id as number)].sort((x, y) => x - y));
    expect(rows[0]).toMatchObject({ task_id: t.id, tenant: "acme", assignee: "w" });
    const rest = await b.liveEventRows(rows[1]?.id as number, 500);
    expect(rest.at(-1)?.id).toBe(await b.latestEventId());
    expect(await b.liveEventRows(await b.latestEventId(), 500)).toEqual([]);
  });
});

describe("board view and pages", () => {
  it("boardView counts columns and decorates cards; columnPage and taskPage continue by cursor", async () => {
    const b = board();
    const p = await b.createTask({ title: "parent", priority: 5 });
    b.clock.advance(1);
    const c = await b.createTask({ title: "child", parents: [p.id] });
    await b.addComment(p.id, "me", "hello");
    for (let i = 0; i < 3; i++) {
      b.clock.advance(1); // distinct creation times: equal ones tie by (random) id
      await b.createTask({ title: `r${i}` });
    }
    const view = await b.boardView("default", {}, { doneLimit: 10, columnLimit: 2, scopeTenant: null });
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
    expect(view.latest_event_id).toBe(await b.latestEventId());

    const next = await b.columnPage("ready", {}, { cursor: ready?.next_cursor, limit: 10 });
    expect(next.tasks.map((t) => t.title)).toEqual(["r1", "r2"]);
    expect(next.next_cursor).toBeNull();

    const first = await b.taskPage({ order_by: "created" }, { limit: 3 });
    expect(first.tasks.map((t) => t.title)).toEqual(["parent", "child", "r0"]);
    const second = await b.taskPage({ order_by: "created" }, { limit: 3, cursor: first.next_cursor });
    expect(second.tasks.map((t) => t.title)).toEqual(["r1", "r2"]);
    expect(second.next_cursor).toBeNull();
    await expect(b.taskPage({ order_by: "title" }, { cursor: first.next_cursor })).rejects.toThrow(
      /ordered by 'created'/,
    );
  });
});
