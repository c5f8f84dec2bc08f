import { beforeEach, describe, expect, it } from "vitest";
import { rawSql, type TestBoard } from "./testing/index.ts";
import { caught, useTestBoards } from "./testing/helpers.ts";

const boards = useTestBoards();

let board: TestBoard;
beforeEach(() => {
  board = boards();
});

async function claimed(opts: { claimer?: string; pid?: number } = {}): Promise<{ id: string; runId: number }> {
  const task = await board.createTask({ title: "work", assignee: "coder" });
  const claim = await board.claimTask(task.id, { claimer: opts.claimer });
  if (!claim || claim.current_run_id === null) throw new Error("claim failed");
  if (opts.pid !== undefined) await board.recordSpawn(task.id, opts.pid, claim.current_run_id);
  return { id: task.id, runId: claim.current_run_id };
}

const TABLES = [
  "task_links",
  "task_comments",
  "task_events",
  "task_runs",
  "kanban_notify_subs",
  "task_attachments",
] as const;

/** Rows in every table that hang off a task (links in either direction). */
async function relatedRows(id: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of TABLES) {
    const where = table === "task_links" ? "parent_id = ? OR child_id = ?" : "task_id = ?";
    const args = table === "task_links" ? [id, id] : [id];
    out[table] = (await rawSql(board).get<{ n: number }>(`SELECT count(*) AS n FROM ${table} WHERE ${where}`, ...args))
      ?.n as number;
  }
  out.tasks = (await rawSql(board).get<{ n: number }>("SELECT count(*) AS n FROM tasks WHERE id = ?", id))?.n as number;
  return out;
}

/** A task with a row in every related table: a parent and a child link, a comment, a run, a subscription, an attachment. */
async function richTask(): Promise<{ id: string; parent: string; child: string }> {
  const parent = await board.createTask({ title: "parent" });
  const task = await board.createTask({ title: "rich", parents: [parent.id] });
  const child = await board.createTask({ title: "child", parents: [task.id] });
  await board.addComment(task.id, "alice", "a note");
  await board.addNotifySub({ task_id: task.id, platform: "telegram", chat_id: "42" });
  await rawSql(board).run(
    "INSERT INTO task_attachments (task_id, filename, stored_path, size, created_at) VALUES (?, 'a.txt', '/tmp/a.txt', 1, ?)",
    task.id,
    board.clock.seconds,
  );
  await board.completeTask(parent.id, { result: "ok" });
  const claim = await board.claimTask(task.id);
  if (!claim) throw new Error("claim failed");
  return { id: task.id, parent: parent.id, child: child.id };
}

describe("archiveTask", () => {
  it("archives a running task: claim cleared, run closed as reclaimed, archived event carries that run id", async () => {
    const { id, runId } = await claimed({ pid: 901 });
    board.clock.advance(10);
    const out = await board.archiveTask(id);
    expect(out.task).toMatchObject({
      status: "archived",
      claim_lock: null,
      claim_expires: null,
      worker_pid: null,
      current_run_id: null,
    });
    expect(await board.getRun(runId)).toMatchObject({
      status: "reclaimed",
      outcome: "reclaimed",
      summary: "task archived with run still active",
      ended_at: board.clock.seconds,
    });
    const ev = (await board.listEvents(id)).filter((e) => e.kind === "archived");
    expect(ev).toEqual([expect.objectContaining({ run_id: runId, payload: null })]);
  });

  it("reports the host-local worker pid of an archived running task for termination", async () => {
    const { id } = await claimed({ pid: 901 });
    expect((await board.archiveTask(id)).terminate).toEqual({ pid: 901, lock: "testhost:4242" });
  });

  it("reports no termination for a worker on another host or a claim with no pid", async () => {
    const foreign = await claimed({ claimer: "elsewhere:77", pid: 902 });
    expect((await board.archiveTask(foreign.id)).terminate).toBeNull();
    const noPid = await claimed();
    expect((await board.archiveTask(noPid.id)).terminate).toBeNull();
  });

  it("creates no run when archiving a task that was never claimed", async () => {
    const task = await board.createTask({ title: "idle" });
    const out = await board.archiveTask(task.id);
    expect(out.task.status).toBe("archived");
    expect(out.terminate).toBeNull();
    expect(await board.listRuns(task.id)).toEqual([]);
    expect((await board.listEvents(task.id)).find((e) => e.kind === "archived")?.run_id).toBeNull();
  });

  it.each(["triage", "todo", "scheduled", "ready", "blocked", "review", "done"])(
    "archives a %s task",
    async (status) => {
      const task = await board.createTask({ title: "t" });
      await rawSql(board).run("UPDATE tasks SET status = ? WHERE id = ?", status, task.id);
      expect((await board.archiveTask(task.id)).task.status).toBe("archived");
    },
  );

  it("refuses to archive an already archived task, and an unknown one", async () => {
    const task = await board.createTask({ title: "t" });
    await board.archiveTask(task.id);
    const err = await caught(async () => await board.archiveTask(task.id));
    expect(err.code).toBe("WRONG_STATE");
    expect(err.message).toBe(`task ${task.id} is already archived`);
    expect((await caught(async () => await board.archiveTask("t_00000000"))).code).toBe("NOT_FOUND");
  });

  it("an archived parent counts as finished: its todo children are promoted at once", async () => {
    const parent = await board.createTask({ title: "parent" });
    const child = await board.createTask({ title: "child", parents: [parent.id] });
    expect((await board.getTask(child.id))?.status).toBe("todo");
    await board.archiveTask(parent.id);
    expect((await board.getTask(child.id))?.status).toBe("ready");
  });
});

describe("deleteArchivedTask", () => {
  it("removes an archived task and every related row (links, comments, events, runs, subscriptions, attachments)", async () => {
    const { id, parent, child } = await richTask();
    await board.archiveTask(id);
    const before = await relatedRows(id);
    for (const [table, n] of Object.entries(before)) expect(n, table).toBeGreaterThan(0);
    await board.deleteArchivedTask(id);
    expect(await relatedRows(id)).toEqual({
      task_links: 0,
      task_comments: 0,
      task_events: 1, // the tombstone, below
      task_runs: 0,
      kanban_notify_subs: 0,
      task_attachments: 0,
      tasks: 0,
    });
    expect(await board.getTask(parent)).not.toBeNull();
    expect(await board.getTask(child)).not.toBeNull();
    // One `deleted` event is left, naming the tenant and the neighbours whose link counts changed.
    const left = await rawSql(board).all<{ kind: string; payload: string }>(
      "SELECT kind, payload FROM task_events WHERE task_id = ?",
      id,
    );
    expect(left.map((e) => ({ kind: e.kind, payload: JSON.parse(e.payload) }))).toEqual([
      { kind: "deleted", payload: { tenant: null, linked: [parent, child].sort() } },
    ]);
  });

  it("refuses a task that is not archived, leaving it in place", async () => {
    const task = await board.createTask({ title: "live" });
    const err = await caught(async () => await board.deleteArchivedTask(task.id));
    expect(err.code).toBe("WRONG_STATE");
    expect(err.message).toBe(
      `cannot delete ${task.id}: only archived tasks can be deleted this way (status is 'ready')`,
    );
    expect(await board.getTask(task.id)).not.toBeNull();
  });
});

describe("deleteTask", () => {
  it("hard-deletes a running task with every related row and reports its host-local worker for termination", async () => {
    const { id } = await richTask();
    const run = (await board.getTask(id))?.current_run_id;
    if (run === null || run === undefined) throw new Error("no run");
    await board.recordSpawn(id, 903, run);
    const out = await board.deleteTask(id);
    expect(out.terminate).toEqual({ pid: 903, lock: "testhost:4242" });
    const { task_events: tombstones, ...rest } = await relatedRows(id);
    expect(Object.values(rest).every((n) => n === 0)).toBe(true);
    expect(tombstones).toBe(1);
  });

  it("deleting a parent removes the edge and promotes the child it was holding back", async () => {
    const parent = await board.createTask({ title: "parent" });
    const child = await board.createTask({ title: "child", parents: [parent.id] });
    const out = await board.deleteTask(parent.id);
    expect(out.terminate).toBeNull();
    expect(await board.parentIds(child.id)).toEqual([]);
    expect((await board.getTask(child.id))?.status).toBe("ready");
  });

  it("refuses an unknown task with NOT_FOUND", async () => {
    expect((await caught(async () => await board.deleteTask("t_00000000"))).code).toBe("NOT_FOUND");
  });
});
