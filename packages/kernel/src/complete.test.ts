import { beforeEach, describe, expect, it } from "vitest";
import { HallucinatedCardsError, KernelError } from "./errors.ts";
import type { IdSource } from "./ids.ts";
import { createTestBoard, rawSql, type TestBoard } from "./testing/index.ts";
import { caught, mapInOrder, useTestBoards } from "./testing/helpers.ts";

const boards = useTestBoards();

// Sequential 8-hex ids: a phantom id such as t_ffffffff can never collide with a real card.
function sequentialIds(): IdSource {
  let n = 0;
  return { taskId: () => `t_${(++n).toString(16).padStart(8, "0")}` };
}

let board: TestBoard;
beforeEach(() => {
  board = boards({ ids: sequentialIds() });
});

async function claimed(title = "work", assignee: string | null = "coder"): Promise<{ id: string; runId: number }> {
  const task = await board.createTask({ title, assignee });
  const claim = await board.claimTask(task.id);
  if (!claim || claim.current_run_id === null) throw new Error("claim failed");
  return { id: task.id, runId: claim.current_run_id };
}

async function kinds(id: string): Promise<string[]> {
  return (await board.listEvents(id)).map((e) => e.kind);
}

async function lastEvent(id: string, kind: string) {
  const ev = (await board.listEvents(id)).filter((e) => e.kind === kind);
  return ev[ev.length - 1];
}

async function rawTask(id: string): Promise<unknown> {
  return await rawSql(board).get("SELECT * FROM tasks WHERE id = ?", id);
}
async function rawRuns(id: string): Promise<unknown[]> {
  return await rawSql(board).all("SELECT * FROM task_runs WHERE task_id = ? ORDER BY id", id);
}

describe("completeTask", () => {
  it("moves a running task to done with its result, completed_at and a cleared claim", async () => {
    const { id } = await claimed();
    board.clock.advance(30);
    const out = await board.completeTask(id, { result: "shipped" });
    expect(out.task).toMatchObject({
      status: "done",
      result: "shipped",
      completed_at: board.clock.seconds,
      claim_lock: null,
      claim_expires: null,
      worker_pid: null,
      current_run_id: null,
    });
    expect((await board.getTask(id))?.status).toBe("done");
  });

  it("closes the active run as completed (status done) with summary and metadata", async () => {
    const { id, runId } = await claimed();
    await board.recordSpawn(id, 777, runId);
    board.clock.advance(45);
    const out = await board.completeTask(id, {
      result: "r",
      summary: "did the thing",
      metadata: { files: 3, ok: true },
    });
    expect(out.run_id).toBe(runId);
    const run = await board.getRun(runId);
    expect(run).toMatchObject({
      status: "done",
      outcome: "completed",
      summary: "did the thing",
      metadata: { files: 3, ok: true },
      ended_at: board.clock.seconds,
      claim_lock: null,
      claim_expires: null,
      worker_pid: null,
    });
    expect(await board.activeRun(id)).toBeNull();
  });

  it("with two runs left open (a broken invariant), closes the newest as completed and the older as superseded", async () => {
    const { id, runId } = await claimed();
    // Engineer the leak: a second open run beside the claimed one (what a lost close would leave).
    await rawSql(board).run(
      "INSERT INTO task_runs (task_id, profile, status, claim_lock, claim_expires, started_at) VALUES (?, 'w', 'running', 'x:1', ?, ?)",
      id,
      board.clock.seconds + 900,
      board.clock.seconds,
    );
    const newest = Math.max(...(await board.listRuns(id)).map((r) => r.id));
    expect(newest).toBeGreaterThan(runId);
    board.clock.advance(10);
    const out = await board.completeTask(id, { summary: "did it", metadata: { n: 1 } });
    expect(out.run_id).toBe(newest);
    const runs = new Map((await board.listRuns(id)).map((r) => [r.id, r]));
    expect(runs.get(newest)).toMatchObject({
      status: "done",
      outcome: "completed",
      summary: "did it",
      metadata: { n: 1 },
      ended_at: board.clock.seconds,
      claim_lock: null,
    });
    expect(runs.get(runId)).toMatchObject({
      status: "reclaimed",
      outcome: "reclaimed",
      summary: "invariant recovery: superseded open run",
      error: null,
      metadata: null,
      ended_at: board.clock.seconds,
      claim_lock: null,
      claim_expires: null,
      worker_pid: null,
    });
    expect(await board.activeRun(id)).toBeNull();
  });

  it("uses the result as the run summary when no summary is given", async () => {
    const { id, runId } = await claimed();
    await board.completeTask(id, { result: "only a result" });
    expect((await board.getRun(runId)).summary).toBe("only a result");
  });

  it("synthesises a zero-length run (started_at == ended_at, status == outcome) for a never-claimed task with a handoff", async () => {
    const task = await board.createTask({ title: "manual", assignee: "coder" });
    board.clock.advance(100);
    const out = await board.completeTask(task.id, { summary: "done by hand", metadata: { via: "cli" } });
    const runs = await board.listRuns(task.id);
    expect(runs).toHaveLength(1);
    const [run] = runs;
    expect(run).toMatchObject({
      id: out.run_id,
      profile: "coder",
      outcome: "completed",
      status: "completed",
      summary: "done by hand",
      metadata: { via: "cli" },
      started_at: board.clock.seconds,
      ended_at: board.clock.seconds,
    });
    expect((await lastEvent(task.id, "completed"))?.run_id).toBe(out.run_id);
  });

  it("creates no run for a never-claimed task completed without summary, result or metadata", async () => {
    const task = await board.createTask({ title: "bulk close" });
    const out = await board.completeTask(task.id, {});
    expect(out.run_id).toBeNull();
    expect(await board.listRuns(task.id)).toEqual([]);
    expect((await lastEvent(task.id, "completed"))?.run_id).toBeNull();
  });

  it("emits a completed event with result_len and the first non-empty line of the summary, capped at 400 chars", async () => {
    const { id, runId } = await claimed();
    const longLine = "x".repeat(450);
    await board.completeTask(id, { result: "12345", summary: `\n  ${longLine}  \nsecond line` });
    const ev = await lastEvent(id, "completed");
    expect(ev?.run_id).toBe(runId);
    expect(ev?.payload).toEqual({ result_len: 5, summary: "x".repeat(400) });
  });

  it("gives the completed event a null summary when neither summary nor result is given", async () => {
    const { id } = await claimed();
    await board.completeTask(id, {});
    expect((await lastEvent(id, "completed"))?.payload).toEqual({ result_len: 0, summary: null });
  });

  it.each(["ready", "blocked", "review"])("completes a %s task (manual completion)", async (status) => {
    const task = await board.createTask({ title: "t" });
    await rawSql(board).run("UPDATE tasks SET status = ? WHERE id = ?", status, task.id);
    expect((await board.completeTask(task.id, { result: "ok" })).task.status).toBe("done");
  });

  it.each(["todo", "triage", "scheduled", "done", "archived"])(
    "refuses to complete a %s task, leaving it untouched",
    async (status) => {
      const task = await board.createTask({ title: "t" });
      await rawSql(board).run("UPDATE tasks SET status = ? WHERE id = ?", status, task.id);
      const before = await rawTask(task.id);
      const err = await caught(async () => await board.completeTask(task.id, { result: "x" }));
      expect(err.code).toBe("WRONG_STATE");
      expect(err.message).toBe(
        `cannot complete ${task.id}: status is '${status}' (only running, ready, blocked or review tasks complete)`,
      );
      expect(await rawTask(task.id)).toEqual(before);
    },
  );

  it("refuses to complete a task whose parent is not done (B fix: parents re-checked at completion)", async () => {
    const parent = await board.createTask({ title: "parent" });
    const child = await board.createTask({ title: "child", parents: [parent.id] });
    await rawSql(board).run("UPDATE tasks SET status = 'ready' WHERE id = ?", child.id);
    const err = await caught(async () => await board.completeTask(child.id, { result: "early" }));
    expect(err.code).toBe("WRONG_STATE");
    expect(err.message).toContain(`${parent.id} (ready)`);
    expect((await board.getTask(child.id))?.status).toBe("ready");
  });

  it("resets the circuit breaker (consecutive_failures, last_failure_error)", async () => {
    const { id } = await claimed();
    await rawSql(board).run("UPDATE tasks SET consecutive_failures = 1, last_failure_error = 'boom' WHERE id = ?", id);
    const out = await board.completeTask(id, { result: "ok" });
    expect(out.task.consecutive_failures).toBe(0);
    expect(out.task.last_failure_error).toBeNull();
  });

  it("promotes children whose parents are now all done, and only those", async () => {
    const a = await board.createTask({ title: "a" });
    const b = await board.createTask({ title: "b" });
    const onlyA = await board.createTask({ title: "needs a", parents: [a.id] });
    const both = await board.createTask({ title: "needs a and b", parents: [a.id, b.id] });
    expect((await board.getTask(onlyA.id))?.status).toBe("todo");
    await board.completeTask(a.id, { result: "a done" });
    expect((await board.getTask(onlyA.id))?.status).toBe("ready");
    expect(await kinds(onlyA.id)).toContain("promoted");
    expect((await board.getTask(both.id))?.status).toBe("todo");
    await board.completeTask(b.id, { result: "b done" });
    expect((await board.getTask(both.id))?.status).toBe("ready");
  });

  it("refuses metadata that is not a JSON object", async () => {
    const { id } = await claimed();
    const err = await caught(
      async () => await board.completeTask(id, { metadata: [1, 2] as unknown as Record<string, unknown> }),
    );
    expect(err.code).toBe("INVALID_INPUT");
    expect(err.message).toBe("metadata must be a JSON object");
    expect((await board.getTask(id))?.status).toBe("running");
  });

  it("refuses an unknown task with NOT_FOUND (with and without created_cards)", async () => {
    expect((await caught(async () => await board.completeTask("t_ffffffff", { result: "x" }))).code).toBe("NOT_FOUND");
    expect(
      (await caught(async () => await board.completeTask("t_ffffffff", { created_cards: ["t_00000001"] }))).code,
    ).toBe("NOT_FOUND");
  });
});

describe("completeTask created_cards gate", () => {
  it("verifies cards created by the completing task's assignee and records them as verified_cards", async () => {
    const { id } = await claimed("orchestrate", "planner");
    const c1 = await board.createTask({ title: "sub 1", created_by: "planner" });
    const c2 = await board.createTask({ title: "sub 2", created_by: "planner" });
    await board.completeTask(id, { summary: "fanned out", created_cards: [c1.id, c2.id] });
    expect((await board.getTask(id))?.status).toBe("done");
    expect((await lastEvent(id, "completed"))?.payload).toEqual({
      result_len: 0,
      summary: "fanned out",
      verified_cards: [c1.id, c2.id],
    });
  });

  it("verifies a card whose created_by is the completing task's id", async () => {
    const { id } = await claimed("orchestrate", "planner");
    const card = await board.createTask({ title: "sub", created_by: id });
    await board.completeTask(id, { created_cards: [card.id] });
    expect((await lastEvent(id, "completed"))?.payload?.verified_cards).toEqual([card.id]);
  });

  it("verifies a card created by another profile when it is linked as a child of the completing task", async () => {
    const { id } = await claimed("orchestrate", "planner");
    const card = await board.createTask({ title: "someone else's", created_by: "other-profile", parents: [id] });
    await board.completeTask(id, { created_cards: [card.id] });
    expect((await board.getTask(id))?.status).toBe("done");
    expect((await lastEvent(id, "completed"))?.payload?.verified_cards).toEqual([card.id]);
  });

  it("rejects a phantom card: HallucinatedCardsError naming it, a completion_blocked_hallucination event, the task untouched", async () => {
    const { id, runId } = await claimed("orchestrate", "planner");
    const real = await board.createTask({ title: "real", created_by: "planner" });
    const taskBefore = await rawTask(id);
    const runsBefore = await rawRuns(id);
    const eventsBefore = (await board.listEvents(id)).length;

    let thrown: unknown;
    try {
      await board.completeTask(id, {
        summary: "made two cards\nmore detail",
        created_cards: [real.id, "t_ffffffff", "t_eeeeeeee"],
      });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(HallucinatedCardsError);
    const err = thrown as HallucinatedCardsError;
    expect(err).toBeInstanceOf(KernelError);
    expect(err.code).toBe("HALLUCINATED_CARDS");
    expect(err.phantom).toEqual(["t_ffffffff", "t_eeeeeeee"]);
    expect(err.completingTaskId).toBe(id);
    expect(err.message).toBe(
      "completion blocked: claimed created_cards that do not exist or were not created by this worker: t_ffffffff, t_eeeeeeee",
    );

    expect(await rawTask(id)).toEqual(taskBefore);
    expect(await rawRuns(id)).toEqual(runsBefore);
    const events = await board.listEvents(id);
    expect(events).toHaveLength(eventsBefore + 1);
    const audit = events[events.length - 1];
    expect(audit?.kind).toBe("completion_blocked_hallucination");
    expect(audit?.run_id).toBe(runId);
    expect(audit?.payload).toEqual({
      phantom_cards: ["t_ffffffff", "t_eeeeeeee"],
      verified_cards: [real.id],
      summary_preview: "made two cards",
    });
  });

  it("treats a card created by a different profile and not linked as phantom (hallucinated attribution)", async () => {
    const { id } = await claimed("orchestrate", "planner");
    const foreign = await board.createTask({ title: "not mine", created_by: "other-profile" });
    const err = await caught(async () => await board.completeTask(id, { created_cards: [foreign.id] }));
    expect(err).toBeInstanceOf(HallucinatedCardsError);
    expect((err as HallucinatedCardsError).phantom).toEqual([foreign.id]);
    expect((await board.getTask(id))?.status).toBe("running");
  });

  it("never verifies through a null assignee matching a null created_by", async () => {
    const { id } = await claimed("unassigned", null);
    const anon = await board.createTask({ title: "anonymous card" });
    const err = await caught(async () => await board.completeTask(id, { created_cards: [anon.id] }));
    expect(err.code).toBe("HALLUCINATED_CARDS");
  });

  it("normalises created_cards: trims, drops blanks and duplicates", async () => {
    const { id } = await claimed("orchestrate", "planner");
    const card = await board.createTask({ title: "sub", created_by: "planner" });
    await board.completeTask(id, { created_cards: [` ${card.id} `, card.id, "", "   "] });
    expect((await lastEvent(id, "completed"))?.payload?.verified_cards).toEqual([card.id]);
  });

  it("an empty created_cards list skips the gate and records no verified_cards", async () => {
    const { id } = await claimed();
    await board.completeTask(id, { result: "ok", created_cards: [] });
    expect((await lastEvent(id, "completed"))?.payload).toEqual({ result_len: 2, summary: "ok" });
  });

  it("previews the first line of the summary (else the result) capped at 200 chars, or null", async () => {
    const { id } = await claimed("orchestrate", "planner");
    await caught(
      async () => await board.completeTask(id, { result: `${"r".repeat(250)}\nrest`, created_cards: ["t_ffffffff"] }),
    );
    expect((await lastEvent(id, "completion_blocked_hallucination"))?.payload?.summary_preview).toBe("r".repeat(200));
    await caught(async () => await board.completeTask(id, { created_cards: ["t_ffffffff"] }));
    expect((await lastEvent(id, "completion_blocked_hallucination"))?.payload?.summary_preview).toBeNull();
  });

  it("lets the worker retry after a rejection with the phantom ids dropped", async () => {
    const { id, runId } = await claimed("orchestrate", "planner");
    const real = await board.createTask({ title: "real", created_by: "planner" });
    await caught(
      async () =>
        await board.completeTask(id, { summary: "s", created_cards: [real.id, "t_ffffffff"], expected_run_id: runId }),
    );
    const out = await board.completeTask(id, { summary: "s", created_cards: [real.id], expected_run_id: runId });
    expect(out.task.status).toBe("done");
    expect(out.run_id).toBe(runId);
    expect((await lastEvent(id, "completed"))?.payload?.verified_cards).toEqual([real.id]);
  });

  it("lets the worker retry after a rejection with an empty created_cards list", async () => {
    const { id } = await claimed("orchestrate", "planner");
    await caught(async () => await board.completeTask(id, { created_cards: ["t_ffffffff"] }));
    expect((await board.completeTask(id, { summary: "no cards after all", created_cards: [] })).task.status).toBe(
      "done",
    );
  });
});

describe("completeTask prose scan (advisory)", () => {
  it("flags t_<8+hex> ids in the summary or result that do not exist, without blocking the completion", async () => {
    const { id, runId } = await claimed();
    const out = await board.completeTask(id, {
      summary: "see t_abcdef12 and t_abcdef12",
      result: "also t_0123456789ab",
    });
    expect(out.task.status).toBe("done");
    const ev = await lastEvent(id, "suspected_hallucinated_references");
    expect(ev?.payload).toEqual({ phantom_refs: ["t_abcdef12", "t_0123456789ab"], source: "completion_summary" });
    expect(ev?.run_id).toBe(runId);
    expect((await kinds(id)).slice(-2)).toEqual(["completed", "suspected_hallucinated_references"]);
  });

  it("does not flag ids that exist, the task's own id, or verified cards", async () => {
    const { id } = await claimed("orchestrate", "planner");
    const other = await board.createTask({ title: "exists" });
    const card = await board.createTask({ title: "mine", created_by: "planner" });
    await board.completeTask(id, {
      summary: `closed ${id}, relates to ${other.id}, created ${card.id}`,
      created_cards: [card.id],
    });
    expect(await kinds(id)).not.toContain("suspected_hallucinated_references");
  });

  it("ignores legacy 4-hex ids and shorter hex runs", async () => {
    const { id } = await claimed();
    await board.completeTask(id, { summary: "legacy t_abcd and t_1234567 are fine" });
    expect(await kinds(id)).not.toContain("suspected_hallucinated_references");
  });
});

describe("completeTask across tenants: nothing tells a tenant which ids exist elsewhere", () => {
  async function tenantClaimed(tenant: string | null, assignee = "coder"): Promise<{ id: string }> {
    const task = await board.createTask({ title: "work", assignee, tenant });
    if (!(await board.claimTask(task.id))) throw new Error("claim failed");
    return { id: task.id };
  }

  /** What a tenant learns from a completion: the advisory phantom list (or its absence). */
  async function scanOf(id: string): Promise<unknown> {
    return (await lastEvent(id, "suspected_hallucinated_references"))?.payload ?? null;
  }

  it("counts another tenant's task id as phantom in the prose scan, exactly as if it did not exist", async () => {
    const globexCard = await board.createTask({ title: "globex card", tenant: "globex" });
    const operatorCard = await board.createTask({ title: "operator card" });
    const acmeCard = await board.createTask({ title: "acme card", tenant: "acme" });
    const { id } = await tenantClaimed("acme");
    await board.completeTask(id, {
      summary: `see ${globexCard.id}, ${operatorCard.id}, ${acmeCard.id} and t_fffffff0`,
    });
    expect(await scanOf(id)).toEqual({
      phantom_refs: [globexCard.id, operatorCard.id, "t_fffffff0"],
      source: "completion_summary",
    });
  });

  it("gives the same scan result whether or not another tenant's task with that id exists", async () => {
    // Two boards with identical ids: on one the referenced id is a globex task, on the other nothing.
    const other = createTestBoard({ ids: sequentialIds() });
    try {
      const results = await mapInOrder([board, other], async (b, i) => {
        const ref = await b.createTask({ title: "maybe", tenant: i === 0 ? "globex" : "acme" });
        if (i === 1) await b.deleteTask(ref.id);
        const task = await b.createTask({ title: "work", assignee: "coder", tenant: "acme" });
        await b.claimTask(task.id);
        await b.completeTask(task.id, { summary: `mentions ${ref.id}` });
        return (
          (await b.listEvents(task.id)).find((e) => e.kind === "suspected_hallucinated_references")?.payload ?? null
        );
      });
      expect(results[0]).toEqual({ phantom_refs: ["t_00000001"], source: "completion_summary" });
      expect(results[1]).toEqual(results[0]);
    } finally {
      other.cleanup();
    }
  });

  it("an operator (no-tenant) task sees every tenant's ids as existing", async () => {
    const globexCard = await board.createTask({ title: "globex card", tenant: "globex" });
    const { id } = await tenantClaimed(null);
    await board.completeTask(id, { summary: `see ${globexCard.id}` });
    expect(await scanOf(id)).toBeNull();
  });

  it("never verifies another tenant's card in the created_cards gate, even one made by the same profile", async () => {
    const globexCard = await board.createTask({ title: "globex card", tenant: "globex", created_by: "planner" });
    const { id } = await tenantClaimed("acme", "planner");
    const err = await caught(async () => await board.completeTask(id, { created_cards: [globexCard.id] }));
    expect((err as HallucinatedCardsError).phantom).toEqual([globexCard.id]);
    expect(err.message).toBe(
      `completion blocked: claimed created_cards that do not exist or were not created by this worker: ${globexCard.id}`,
    );
    expect((await lastEvent(id, "completion_blocked_hallucination"))?.payload?.verified_cards).toEqual([]);
  });
});

describe("completeTask metadata bounds", () => {
  const nested = (levels: number): Record<string, unknown> => {
    let v: Record<string, unknown> = { leaf: 1 };
    for (let i = 1; i < levels; i++) v = { a: v };
    return v;
  };

  it("refuses metadata nested deeper than the stored-JSON limit before writing anything, and keeps what it accepts readable", async () => {
    const { id } = await claimed();
    const eventsBefore = (await board.listEvents(id)).length;
    for (const levels of [129, 5_000]) {
      const err = await caught(async () => await board.completeTask(id, { summary: "s", metadata: nested(levels) }));
      expect(err.code).toBe("INVALID_INPUT");
      expect(err.message).toBe("metadata is nested deeper than 128 levels");
    }
    expect((await board.getTask(id))?.status).toBe("running");
    expect(await board.listEvents(id)).toHaveLength(eventsBefore);
    await board.completeTask(id, { summary: "s", metadata: nested(128) });
    expect((await board.listRuns(id)).at(-1)?.metadata).toEqual(nested(128));
  });
});

describe("completeTask re-gates children against the board's failure_limit", () => {
  // Board policy failure_limit = 3. The child gave up after 2 failures while the board's limit was
  // 2 (a non-sticky breaker block; config.json was edited since) and was then linked under a new
  // parent. When that parent completes, the child is judged against the board's 3, as the tick
  // would judge it, not against the built-in default of 2.
  let b: TestBoard;
  let limit = 3;
  beforeEach(() => {
    limit = 3;
    b = boards({ failureLimit: () => limit });
  });

  async function breakerBlockedChild(): Promise<string> {
    const child = (await b.createTask({ title: "child" })).id;
    limit = 2;
    for (let i = 0; i < 2; i++) {
      expect(await b.claimTask(child)).not.toBeNull();
      await b.recordTaskFailure(child, { error: "boom", outcome: "crashed", releaseClaim: true });
    }
    limit = 3;
    const t = await b.requireTask(child);
    expect([t.status, t.consecutive_failures]).toEqual(["blocked", 2]);
    return child;
  }

  it("a parent's completion promotes an auto-blocked child whose failures are under the board's limit", async () => {
    const child = await breakerBlockedChild();
    const parent = (await b.createTask({ title: "parent" })).id;
    await b.linkTasks(parent, child);
    expect(await b.recomputeReady()).toBe(0); // the parent is open: nothing to promote yet
    await b.completeTask(parent, { result: "ok" });
    expect((await b.requireTask(child)).status).toBe("ready");
  });

  it("a move of the parent to done re-gates the child the same way", async () => {
    const child = await breakerBlockedChild();
    const parent = (await b.createTask({ title: "parent" })).id;
    await b.linkTasks(parent, child);
    await b.moveTask(parent, { status: "done", result: "ok" });
    expect((await b.requireTask(child)).status).toBe("ready");
  });

  it("the board's limit as it is at the completion judges the child (lowered to 2: it stays blocked)", async () => {
    const child = await breakerBlockedChild();
    const parent = (await b.createTask({ title: "parent" })).id;
    await b.linkTasks(parent, child);
    limit = 2;
    await b.completeTask(parent, { result: "ok" });
    expect((await b.requireTask(child)).status).toBe("blocked");
  });
});
