import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { KernelError } from "./errors.ts";
import { type ScopedBoard, scopeBoard } from "./scoped-board.ts";
import { createTestBoard, type TestBoard } from "./testing/test-board.ts";

let board: TestBoard;
let acme: ScopedBoard;
let mineId: string;
let foreignId: string;
let operatorsId: string;

beforeEach(() => {
  board = createTestBoard();
  mineId = board.createTask({ title: "mine", tenant: "acme", assignee: "coder" }).id;
  foreignId = board.createTask({ title: "theirs", tenant: "globex", assignee: "coder" }).id;
  operatorsId = board.createTask({ title: "operator's", assignee: "coder" }).id;
  acme = scopeBoard(board, { tenant: "acme" });
});
afterEach(() => board.cleanup());

/** The error a call throws (fails the test when it does not throw). */
function thrown(fn: () => unknown): KernelError {
  try {
    fn();
  } catch (err) {
    if (err instanceof KernelError) return err;
    throw err;
  }
  throw new Error("expected a KernelError");
}

describe("ScopedBoard: another tenant's task is an unknown id", () => {
  it("getTask answers null and requireTask throws the very NOT_FOUND of an id that does not exist", () => {
    expect(acme.getTask(foreignId)).toBeNull();
    expect(acme.getTask(operatorsId)).toBeNull();
    expect(acme.getTask(mineId)?.title).toBe("mine");
    const foreign = thrown(() => acme.requireTask(foreignId));
    const unknown = thrown(() => acme.requireTask("t_nosuchtask"));
    expect(foreign.code).toBe("NOT_FOUND");
    expect(foreign.message).toBe(`task ${foreignId} not found`);
    expect(unknown.message).toBe("task t_nosuchtask not found");
    expect(foreign.details).toEqual({ task_id: foreignId });
  });

  it("verbs naming a foreign task refuse with NOT_FOUND and change nothing", () => {
    const before = board.getTask(foreignId);
    const refusals = [
      () => acme.addComment(foreignId, "eve", "hello"),
      () => acme.claimWithWorkspace(foreignId, {}, (t) => t),
      () => acme.completeTask(foreignId, { result: "stolen" }),
      () => acme.blockTask(foreignId, { reason: "no" }),
      () => acme.archiveTask(foreignId),
      () => acme.deleteTask(foreignId),
      () => acme.updateTask(foreignId, { title: "renamed" }),
      () => acme.reassignTask(foreignId, "mallory"),
      () => acme.linkTasks(mineId, foreignId),
      () => acme.listComments(foreignId),
      () => acme.workerContext(foreignId),
      () => acme.eventsAfter(0, { task_id: foreignId }),
    ];
    for (const refuse of refusals) expect(thrown(refuse).code).toBe("NOT_FOUND");
    expect(board.getTask(foreignId)).toEqual(before);
    expect(board.listComments(foreignId)).toEqual([]);
    expect(board.parentIds(foreignId)).toEqual([]);
  });

  it("verbs on the scope's own task go through", () => {
    const claimed = acme.claimWithWorkspace(mineId, {}, (t) => t);
    expect(claimed?.status).toBe("running");
    acme.completeTask(mineId, { result: "done" });
    expect(acme.requireTask(mineId).status).toBe("done");
  });

  it("a task is created in the scope's tenant whatever was asked, and a foreign parent is an unknown parent", () => {
    expect(acme.createTask({ title: "new", tenant: "globex" }).tenant).toBe("acme");
    const err = thrown(() => acme.createTask({ title: "child", parents: [foreignId] }));
    expect(err.code).toBe("INVALID_INPUT");
    expect(err.message).toBe(`unknown parent task(s): ${foreignId}`);
  });

  it("a run of a foreign task is NOT_FOUND like an unknown run", () => {
    board.claimTask(foreignId);
    const runId = board.requireTask(foreignId).current_run_id as number;
    expect(scopeBoard(board, { tenant: null }).getRun(runId).task_id).toBe(foreignId);
    const err = thrown(() => acme.getRun(runId));
    expect(err.code).toBe("NOT_FOUND");
    expect(err.message).toBe(`run ${runId} not found`);
  });
});

describe("ScopedBoard: reads are confined to the tenant", () => {
  it("task pages, stats, assignees and status counts hold the tenant's tasks only, whatever filter is asked", () => {
    const page = acme.taskPage({ tenant: "globex" }, {});
    expect(page.tasks.map((t) => t.id)).toEqual([mineId]);
    expect(acme.statusCounts().reduce((n, r) => n + r.n, 0)).toBe(1);
    expect(acme.assigneesFor([]).find((a) => a.name === "coder")?.counts).toEqual({ ready: 1 });
    expect(
      scopeBoard(board, { tenant: null })
        .statusCounts()
        .reduce((n, r) => n + r.n, 0),
    ).toBe(3);
  });

  it("the operator's scope sees every tenant and may narrow a read with the read's own filter", () => {
    const operator = scopeBoard(board, { tenant: null });
    expect(operator.getTask(foreignId)?.tenant).toBe("globex");
    expect(operator.taskPage({}, {}).tasks).toHaveLength(3);
    expect(operator.taskPage({ tenant: "globex" }, {}).tasks.map((t) => t.id)).toEqual([foreignId]);
    expect(operator.taskPage({ tenant: "  " }, {}).tasks).toHaveLength(3);
  });

  it("events, the board view, linked tasks and the drawer's detail leave other tenants out", () => {
    board.linkTasks(foreignId, mineId);
    const events = acme.eventsAfter(0, { tenant: "globex" });
    expect(events.length).toBeGreaterThan(0);
    expect(new Set(events.map((e) => e.task_id))).toEqual(new Set([mineId]));
    const view = acme.boardView("default", { tenant: "globex" }, { doneLimit: 50, columnLimit: 500 });
    const cards = view.columns.flatMap((c) => c.tasks.map((t) => t.id));
    expect(cards).toEqual([mineId]);
    expect(view.tenants).toEqual(["acme"]);
    expect(board.linkedParents(mineId).map((t) => t.id)).toEqual([foreignId]);
    expect(acme.linkedParents(mineId)).toEqual([]);
    const detail = acme.taskDetail(mineId);
    expect(detail.task.id).toBe(mineId);
    expect(detail.links.parents).toEqual([]);
    expect(thrown(() => acme.taskDetail(foreignId)).code).toBe("NOT_FOUND");
  });

  it("a blank tenant is the operator's scope, never a tenant named ''", () => {
    expect(scopeBoard(board, { tenant: "  " }).tenant).toBeNull();
    expect(scopeBoard(board, { tenant: " acme " }).getTask(mineId)?.id).toBe(mineId);
  });
});

describe("ScopedBoard: an operator's link to another tenant's task stays invisible to the tenant", () => {
  /**
   * The operator may link across tenants. acme's task then has a globex parent (done, with a result)
   * and a globex child, beside one acme child: every link-derived read of acme's scope must show the
   * acme child only, and no globex id, as if the globex tasks did not exist.
   */
  function crossTenantLinks() {
    const sibling = board.createTask({ title: "acme child", tenant: "acme" }).id;
    const foreignChild = board.createTask({ title: "globex child", tenant: "globex" }).id;
    board.claimTask(foreignId);
    board.completeTask(foreignId, { result: "globex secret handoff" });
    board.claimTask(sibling);
    board.completeTask(sibling, { result: "acme result" });
    board.linkTasks(foreignId, mineId);
    board.linkTasks(mineId, sibling);
    board.linkTasks(mineId, foreignChild);
    return { sibling, foreignChild };
  }
  const foreignIds = () => [foreignId, operatorsId];

  it("linkEdges keeps only edges whose both ends are the tenant's; the operator sees every edge", () => {
    const { sibling, foreignChild } = crossTenantLinks();
    expect(acme.linkEdges([mineId, sibling])).toEqual([{ parent_id: mineId, child_id: sibling }]);
    const operator = scopeBoard(board, { tenant: null });
    expect(operator.linkEdges([mineId])).toHaveLength(3);
    expect(JSON.stringify(acme.linkEdges([mineId]))).not.toContain(foreignChild);
  });

  it("card link counts and progress count the tenant's linked tasks only, on the board, a column page and the drawer", () => {
    const { sibling, foreignChild } = crossTenantLinks();
    const view = acme.boardView("default", {}, { doneLimit: 50, columnLimit: 500 });
    const card = view.columns.flatMap((c) => c.tasks).find((t) => t.id === mineId);
    expect(card?.link_counts).toEqual({ parents: 0, children: 1 });
    expect(card?.progress).toEqual({ done: 1, total: 1 });
    const column = acme.columnPage(card?.status ?? "todo", {}, { limit: 50 });
    const paged = column.tasks.find((t) => t.id === mineId);
    expect(paged?.link_counts).toEqual({ parents: 0, children: 1 });
    expect(paged?.progress).toEqual({ done: 1, total: 1 });
    const detail = acme.taskDetail(mineId, {});
    expect(detail.task.link_counts).toEqual({ parents: 0, children: 1 });
    expect(detail.task.progress).toEqual({ done: 1, total: 1 });
    expect(detail.links).toEqual({ parents: [], children: [expect.objectContaining({ id: sibling })] });
    expect(detail.child_results.map((c) => c.id)).toEqual([sibling]);
    for (const id of [...foreignIds(), foreignChild]) {
      expect(JSON.stringify(detail.links)).not.toContain(id);
      expect(JSON.stringify(detail.child_results)).not.toContain(id);
    }
    expect(detail.worker_context).not.toContain("globex secret handoff");
    expect(acme.linkedChildren(mineId).map((t) => t.id)).toEqual([sibling]);
    // The link events keep their place in the history but name no foreign end.
    const events = [...detail.events, ...acme.eventsAfter(0), ...acme.listEvents(mineId)];
    expect(events.some((e) => e.kind === "linked" && e.payload?.parent === null)).toBe(true);
    for (const id of [...foreignIds(), foreignChild]) expect(JSON.stringify(events)).not.toContain(id);
    // The operator's scope still counts every link.
    const full = scopeBoard(board, { tenant: null }).taskDetail(mineId, {});
    expect(full.task.link_counts).toEqual({ parents: 1, children: 2 });
    expect(full.task.progress).toEqual({ done: 1, total: 2 });
  });
});

describe("ScopedBoard: a refusal caused by another tenant's parent names no foreign task", () => {
  it("moving, patching or promoting to ready past an unfinished foreign parent keeps its id and title out", () => {
    board.updateTask(foreignId, { title: "globex secret title" });
    board.linkTasks(foreignId, mineId);
    const mine = acme.requireTask(mineId).status;
    expect(mine).not.toBe("ready");
    const refusals = [
      thrown(() => acme.moveTask(mineId, { status: "ready" })),
      thrown(() => acme.patchTask(mineId, { status: "ready" })),
    ];
    for (const err of refusals) {
      expect(err.code).toBe("WRONG_STATE");
      expect(err.message).toContain("a parent outside this scope");
      expect(JSON.stringify([err.message, err.details])).not.toContain(foreignId);
      expect(err.message).not.toContain("globex secret title");
    }
    const promoted = acme.promoteTask(mineId);
    expect(promoted.ok).toBe(false);
    expect(JSON.stringify(promoted)).not.toContain(foreignId);
    // The operator is told which parent it is.
    expect(thrown(() => scopeBoard(board, { tenant: null }).moveTask(mineId, { status: "ready" })).message).toContain(
      foreignId,
    );
    expect(acme.requireTask(mineId).status).toBe(mine);
  });
});
