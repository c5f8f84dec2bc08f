import { useTestBoards } from "./testing/helpers.ts";
import { beforeEach, describe, expect, it } from "vitest";
import { KernelError } from "./errors.ts";
import { type ScopedBoard, scopeBoard } from "./scoped-board.ts";
import type { TestBoard } from "./testing/test-board.ts";

const boards = useTestBoards();

let board: TestBoard;
let acme: ScopedBoard;
let mineId: string;
let foreignId: string;
let operatorsId: string;

beforeEach(async () => {
  board = boards();
  mineId = (await board.createTask({ title: "mine", tenant: "acme", assignee: "coder" })).id;
  foreignId = (await board.createTask({ title: "theirs", tenant: "globex", assignee: "coder" })).id;
  operatorsId = (await board.createTask({ title: "operator's", assignee: "coder" })).id;
  acme = scopeBoard(board, { tenant: "acme" });
});

/** The error a call throws (fails the test when it does not throw). */
async function thrown(fn: () => unknown): Promise<KernelError> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof KernelError) return err;
    throw err;
  }
  throw new Error("expected a KernelError");
}

describe("ScopedBoard: another tenant's task is an unknown id", () => {
  it("getTask answers null and requireTask throws the very NOT_FOUND of an id that does not exist", async () => {
    expect(await acme.getTask(foreignId)).toBeNull();
    expect(await acme.getTask(operatorsId)).toBeNull();
    expect((await acme.getTask(mineId))?.title).toBe("mine");
    const foreign = await thrown(async () => await acme.requireTask(foreignId));
    const unknown = await thrown(async () => await acme.requireTask("t_nosuchtask"));
    expect(foreign.code).toBe("NOT_FOUND");
    expect(foreign.message).toBe(`task ${foreignId} not found`);
    expect(unknown.message).toBe("task t_nosuchtask not found");
    expect(foreign.details).toEqual({ task_id: foreignId });
  });

  it("verbs naming a foreign task refuse with NOT_FOUND and change nothing", async () => {
    const before = await board.getTask(foreignId);
    const refusals = [
      async () => await acme.addComment(foreignId, "eve", "hello"),
      async () => await acme.claimWithWorkspace(foreignId, {}, (t) => t),
      async () => await acme.completeTask(foreignId, { result: "stolen" }),
      async () => await acme.blockTask(foreignId, { reason: "no" }),
      async () => await acme.archiveTask(foreignId),
      async () => await acme.deleteTask(foreignId),
      async () => await acme.updateTask(foreignId, { title: "renamed" }),
      async () => await acme.reassignTask(foreignId, "mallory"),
      async () => await acme.linkTasks(mineId, foreignId),
      async () => await acme.listComments(foreignId),
      async () => await acme.workerContext(foreignId),
      async () => await acme.eventsAfter(0, { task_id: foreignId }),
    ];
    for (const refuse of refusals) expect((await thrown(refuse)).code).toBe("NOT_FOUND");
    expect(await board.getTask(foreignId)).toEqual(before);
    expect(await board.listComments(foreignId)).toEqual([]);
    expect(await board.parentIds(foreignId)).toEqual([]);
  });

  it("verbs on the scope's own task go through", async () => {
    const claimed = await acme.claimWithWorkspace(mineId, {}, (t) => t);
    expect(claimed?.status).toBe("running");
    await acme.completeTask(mineId, { result: "done" });
    expect((await acme.requireTask(mineId)).status).toBe("done");
  });

  it("a task is created in the scope's tenant whatever was asked, and a foreign parent is an unknown parent", async () => {
    expect((await acme.createTask({ title: "new", tenant: "globex" })).tenant).toBe("acme");
    const err = await thrown(async () => await acme.createTask({ title: "child", parents: [foreignId] }));
    expect(err.code).toBe("INVALID_INPUT");
    expect(err.message).toBe(`unknown parent task(s): ${foreignId}`);
  });

  it("a run of a foreign task is NOT_FOUND like an unknown run", async () => {
    await board.claimTask(foreignId);
    const runId = (await board.requireTask(foreignId)).current_run_id as number;
    expect((await scopeBoard(board, { tenant: null }).getRun(runId)).task_id).toBe(foreignId);
    const err = await thrown(async () => await acme.getRun(runId));
    expect(err.code).toBe("NOT_FOUND");
    expect(err.message).toBe(`run ${runId} not found`);
  });
});

describe("ScopedBoard: reads are confined to the tenant", () => {
  it("task pages, stats, assignees and status counts hold the tenant's tasks only, whatever filter is asked", async () => {
    const page = await acme.taskPage({ tenant: "globex" }, {});
    expect(page.tasks.map((t) => t.id)).toEqual([mineId]);
    expect((await acme.statusCounts()).reduce((n, r) => n + r.n, 0)).toBe(1);
    expect((await acme.assigneesFor([])).find((a) => a.name === "coder")?.counts).toEqual({ ready: 1 });
    expect((await scopeBoard(board, { tenant: null }).statusCounts()).reduce((n, r) => n + r.n, 0)).toBe(3);
  });

  it("the operator's scope sees every tenant and may narrow a read with the read's own filter", async () => {
    const operator = scopeBoard(board, { tenant: null });
    expect((await operator.getTask(foreignId))?.tenant).toBe("globex");
    expect((await operator.taskPage({}, {})).tasks).toHaveLength(3);
    expect((await operator.taskPage({ tenant: "globex" }, {})).tasks.map((t) => t.id)).toEqual([foreignId]);
    expect((await operator.taskPage({ tenant: "  " }, {})).tasks).toHaveLength(3);
  });

  it("events, the board view, linked tasks and the drawer's detail leave other tenants out", async () => {
    await board.linkTasks(foreignId, mineId);
    const events = await acme.eventsAfter(0, { tenant: "globex" });
    expect(events.length).toBeGreaterThan(0);
    expect(new Set(events.map((e) => e.task_id))).toEqual(new Set([mineId]));
    const view = await acme.boardView("default", { tenant: "globex" }, { doneLimit: 50, columnLimit: 500 });
    const cards = view.columns.flatMap((c) => c.tasks.map((t) => t.id));
    expect(cards).toEqual([mineId]);
    expect(view.tenants).toEqual(["acme"]);
    expect((await board.linkedParents(mineId)).map((t) => t.id)).toEqual([foreignId]);
    expect(await acme.linkedParents(mineId)).toEqual([]);
    const detail = await acme.taskDetail(mineId);
    expect(detail.task.id).toBe(mineId);
    expect(detail.links.parents).toEqual([]);
    expect((await thrown(async () => await acme.taskDetail(foreignId))).code).toBe("NOT_FOUND");
  });

  it("a blank tenant is the operator's scope, never a tenant named ''", async () => {
    expect(scopeBoard(board, { tenant: "  " }).tenant).toBeNull();
    expect((await scopeBoard(board, { tenant: " acme " }).getTask(mineId))?.id).toBe(mineId);
  });
});

describe("ScopedBoard: an operator's link to another tenant's task stays invisible to the tenant", () => {
  /**
   * The operator may link across tenants. acme's task then has a globex parent (done, with a result)
   * and a globex child, beside one acme child: every link-derived read of acme's scope must show the
   * acme child only, and no globex id, as if the globex tasks did not exist.
   */
  async function crossTenantLinks() {
    const sibling = (await board.createTask({ title: "acme child", tenant: "acme" })).id;
    const foreignChild = (await board.createTask({ title: "globex child", tenant: "globex" })).id;
    await board.claimTask(foreignId);
    await board.completeTask(foreignId, { result: "globex secret handoff" });
    await board.claimTask(sibling);
    await board.completeTask(sibling, { result: "acme result" });
    await board.linkTasks(foreignId, mineId);
    await board.linkTasks(mineId, sibling);
    await board.linkTasks(mineId, foreignChild);
    return { sibling, foreignChild };
  }
  const foreignIds = () => [foreignId, operatorsId];

  it("linkEdges keeps only edges whose both ends are the tenant's; the operator sees every edge", async () => {
    const { sibling, foreignChild } = await crossTenantLinks();
    expect(await acme.linkEdges([mineId, sibling])).toEqual([{ parent_id: mineId, child_id: sibling }]);
    const operator = scopeBoard(board, { tenant: null });
    expect(await operator.linkEdges([mineId])).toHaveLength(3);
    expect(JSON.stringify(await acme.linkEdges([mineId]))).not.toContain(foreignChild);
  });

  it("card link counts and progress count the tenant's linked tasks only, on the board, a column page and the drawer", async () => {
    const { sibling, foreignChild } = await crossTenantLinks();
    const view = await acme.boardView("default", {}, { doneLimit: 50, columnLimit: 500 });
    const card = view.columns.flatMap((c) => c.tasks).find((t) => t.id === mineId);
    expect(card?.link_counts).toEqual({ parents: 0, children: 1 });
    expect(card?.progress).toEqual({ done: 1, total: 1 });
    const column = await acme.columnPage(card?.status ?? "todo", {}, { limit: 50 });
    const paged = column.tasks.find((t) => t.id === mineId);
    expect(paged?.link_counts).toEqual({ parents: 0, children: 1 });
    expect(paged?.progress).toEqual({ done: 1, total: 1 });
    const detail = await acme.taskDetail(mineId, {});
    expect(detail.task.link_counts).toEqual({ parents: 0, children: 1 });
    expect(detail.task.progress).toEqual({ done: 1, total: 1 });
    expect(detail.links).toEqual({ parents: [], children: [expect.objectContaining({ id: sibling })] });
    expect(detail.child_results.map((c) => c.id)).toEqual([sibling]);
    for (const id of [...foreignIds(), foreignChild]) {
      expect(JSON.stringify(detail.links)).not.toContain(id);
      expect(JSON.stringify(detail.child_results)).not.toContain(id);
    }
    expect(detail.worker_context).not.toContain("globex secret handoff");
    expect((await acme.linkedChildren(mineId)).map((t) => t.id)).toEqual([sibling]);
    // The link events keep their place in the history but name no foreign end.
    const events = [...detail.events, ...(await acme.eventsAfter(0)), ...(await acme.listEvents(mineId))];
    expect(events.some((e) => e.kind === "linked" && e.payload?.parent === null)).toBe(true);
    for (const id of [...foreignIds(), foreignChild]) expect(JSON.stringify(events)).not.toContain(id);
    // The operator's scope still counts every link.
    const full = await scopeBoard(board, { tenant: null }).taskDetail(mineId, {});
    expect(full.task.link_counts).toEqual({ parents: 1, children: 2 });
    expect(full.task.progress).toEqual({ done: 1, total: 2 });
  });
});

describe("ScopedBoard: a refusal caused by another tenant's parent names no foreign task", () => {
  it("moving, patching or promoting to ready past an unfinished foreign parent keeps its id and title out", async () => {
    await board.updateTask(foreignId, { title: "globex secret title" });
    await board.linkTasks(foreignId, mineId);
    const mine = (await acme.requireTask(mineId)).status;
    expect(mine).not.toBe("ready");
    const refusals = [
      await thrown(async () => await acme.moveTask(mineId, { status: "ready" })),
      await thrown(async () => await acme.patchTask(mineId, { status: "ready" })),
    ];
    for (const err of refusals) {
      expect(err.code).toBe("WRONG_STATE");
      expect(err.message).toContain("a parent outside this scope");
      expect(JSON.stringify([err.message, err.details])).not.toContain(foreignId);
      expect(err.message).not.toContain("globex secret title");
    }
    const promoted = await acme.promoteTask(mineId);
    expect(promoted.ok).toBe(false);
    expect(JSON.stringify(promoted)).not.toContain(foreignId);
    // The operator is told which parent it is.
    expect(
      (await thrown(async () => await scopeBoard(board, { tenant: null }).moveTask(mineId, { status: "ready" })))
        .message,
    ).toContain(foreignId);
    expect((await acme.requireTask(mineId)).status).toBe(mine);
  });
});
