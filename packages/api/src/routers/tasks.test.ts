import fs from "node:fs";
import path from "node:path";
import { dispatcherLockPath, logsDir } from "@kanban/db";
import { TRPCError } from "@trpc/server";
import { rawSql, refuseInserts } from "@kanban/kernel/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { codeOf, createTestApi, type TestApi } from "../testing.ts";

let t: TestApi;
beforeEach(() => {
  t = createTestApi();
});
afterEach(() => t.cleanup());

async function messageOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error("expected the call to fail");
}

function markDispatcherAlive(): void {
  const lock = dispatcherLockPath(t.dir);
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  fs.writeFileSync(lock, String(process.pid));
}

/** Claims `id` as a host-local worker with a (dead) pid, so releasing it reports a termination. */
async function claimWithWorker(id: string, pid = 2_000_000_001): Promise<number> {
  const { run_id } = await t.api.tasks.claim({ id });
  if (run_id === null) throw new Error("claim opened no run");
  await t.board().recordSpawn(id, pid, run_id);
  return run_id;
}

describe("tasks.create", () => {
  it("creates with dashboard defaults and returns the task dict (skills [] when none)", async () => {
    const { task } = await t.api.tasks.create({ title: "  write docs  ", body: "b" });
    expect(task).toMatchObject({
      title: "write docs",
      body: "b",
      status: "ready",
      created_by: "dashboard",
      priority: 0,
      skills: [],
    });
    expect((await t.board().getTask(task.id))?.title).toBe("write docs");
  });

  it("parses the CLI workspace shorthand and refuses it together with workspace_kind", async () => {
    const { task } = await t.api.tasks.create({ title: "w", workspace: `dir:${t.dir}` });
    expect(task).toMatchObject({ workspace_kind: "dir", workspace_path: t.dir });
    expect(await codeOf(t.api.tasks.create({ title: "w", workspace: "scratch", workspace_kind: "dir" }))).toBe(
      "BAD_REQUEST",
    );
    expect(await codeOf(t.api.tasks.create({ title: "w", workspace: "elsewhere" }))).toBe("BAD_REQUEST");
  });

  it("warns when a ready, assigned task has no dispatcher to pick it up", async () => {
    const r = await t.api.tasks.create({ title: "t", assignee: "coder" });
    expect(r.warning).toBe(`no dispatcher is running: nothing will dispatch ${r.task.id} until one starts`);
  });

  it("with no profiles configured, warns unless the assignee is default or a Hermes profile on disk", async () => {
    markDispatcherAlive();
    fs.mkdirSync(path.join(t.dir, "hermes", "profiles", "anyone"), { recursive: true });
    fs.writeFileSync(path.join(t.dir, "hermes", "profiles", "anyone", "config.yaml"), "model: x\n");
    expect(await t.api.tasks.create({ title: "t", assignee: "anyone" })).not.toHaveProperty("warning");
    expect(await t.api.tasks.create({ title: "t", assignee: "default" })).not.toHaveProperty("warning");
    const ghost = await t.api.tasks.create({ title: "t", assignee: "ghost" });
    expect(ghost.warning).toBe(
      `assignee 'ghost' is not a Hermes profile on this host (anyone, default): the dispatcher will never spawn ${ghost.task.id}`,
    );
    // The card says so at once, not after the stranded threshold.
    const detail = await t.api.tasks.get({ id: ghost.task.id });
    expect(detail.diagnostics.map((d) => [d.kind, d.severity, d.data.reason])).toEqual([
      ["stranded_in_ready", "error", "unknown_profile"],
    ]);
    const board = await t.api.board.get({});
    expect(
      board.columns.find((c) => c.name === "ready")?.tasks.find((c) => c.id === ghost.task.id)?.warnings,
    ).toMatchObject({ count: 1, highest_severity: "error" });
    expect((await t.api.diagnostics.list({})).diagnostics.map((d) => d.task_id)).toEqual([ghost.task.id]);
  });

  it("warns when the assignee is not a configured profile, even with a live dispatcher", async () => {
    markDispatcherAlive();
    t.writeConfig({ profiles: { coder: { command: ["node", "w.js"] } } });
    const bad = await t.api.tasks.create({ title: "t", assignee: "writer" });
    expect(bad.warning).toContain("assignee 'writer' is not a configured profile (coder)");
    expect(await t.api.tasks.create({ title: "t", assignee: "coder" })).not.toHaveProperty("warning");
  });

  it("never warns about triage, unassigned or waiting tasks", async () => {
    const parent = await t.api.tasks.create({ title: "p" });
    for (const input of [{ triage: true, assignee: "a" }, {}, { parents: [parent.task.id], assignee: "a" }]) {
      expect(await t.api.tasks.create({ title: "t", ...input })).not.toHaveProperty("warning");
    }
  });

  it("refuses oversize and malformed input with BAD_REQUEST naming the field", async () => {
    expect(await messageOf(t.api.tasks.create({ title: "x".repeat(501) }))).toMatch(/^title: Too big/);
    expect(await codeOf(t.api.tasks.create({ title: "t", body: "x".repeat(1024 * 1024 + 1) }))).toBe("BAD_REQUEST");
    expect(await codeOf(t.api.tasks.create({ title: "t", parents: ["../etc"] }))).toBe("BAD_REQUEST");
    expect(
      await codeOf(t.api.tasks.create({ title: "t", parents: Array.from({ length: 501 }, (_, i) => `t_${i}`) })),
    ).toBe("BAD_REQUEST");
    expect(await codeOf(t.api.tasks.create({ title: "   " }))).toBe("BAD_REQUEST");
    expect(await codeOf(t.api.tasks.create({ title: "t", skills: ["terminal"] }))).toBe("BAD_REQUEST");
    expect(await codeOf(t.api.tasks.create({ title: "t", parents: ["t_missing"] }))).toBe("BAD_REQUEST");
    expect(await codeOf(t.api.tasks.create({ title: "t", board: "Bad Slug!" }))).toBe("BAD_REQUEST");
    expect(await codeOf(t.api.tasks.create({ title: "t", board: "nosuch" }))).toBe("NOT_FOUND");
  });
});

describe("tasks.get", () => {
  it("returns task, comments, events, runs, links with titles, child results and the worker context", async () => {
    const parent = (await t.api.tasks.create({ title: "parent" })).task;
    const child = (await t.api.tasks.create({ title: "child", parents: [parent.id] })).task;
    await t.api.comments.add({ task_id: parent.id, body: "hello", author: "ann" });
    await t.api.tasks.claim({ id: parent.id });
    await t.api.tasks.complete({ id: parent.id, summary: "all done", result: "R" });
    const d = await t.api.tasks.get({ id: parent.id });
    expect(d.task).toMatchObject({
      id: parent.id,
      status: "done",
      latest_summary: "all done",
      comment_count: 1,
      progress: { done: 0, total: 1 },
    });
    expect(d.comments.map((c) => [c.author, c.body])).toEqual([["ann", "hello"]]);
    expect(d.events.map((e) => e.kind)).toEqual(["created", "commented", "claimed", "completed"]);
    expect(d.events.find((e) => e.kind === "completed")?.run_id).toBe(d.runs[0]?.id);
    expect(d.runs).toHaveLength(1);
    expect(d.links.children).toEqual([{ id: child.id, title: "child", status: "ready", assignee: null }]);
    expect(d.child_results).toEqual([
      { id: child.id, title: "child", status: "ready", latest_summary: null, result: null },
    ]);
    expect(d.worker_context).toContain(`# Kanban task ${parent.id}: parent`);
    const c = await t.api.tasks.get({ id: child.id });
    expect(c.links.parents).toEqual([{ id: parent.id, title: "parent", status: "done", assignee: null }]);
    expect(c.runs).toEqual([]);
  });

  it("is NOT_FOUND for an unknown id and BAD_REQUEST for a malformed one", async () => {
    expect(await messageOf(t.api.tasks.get({ id: "t_nope" }))).toBe("task t_nope not found");
    expect(await codeOf(t.api.tasks.get({ id: "t_nope" }))).toBe("NOT_FOUND");
    expect(await codeOf(t.api.tasks.get({ id: "a b" }))).toBe("BAD_REQUEST");
    expect(await codeOf(t.api.tasks.get({ id: "x".repeat(65) }))).toBe("BAD_REQUEST");
  });
});

describe("tasks.list", () => {
  it("filters by the kernel's filters and honours limit", async () => {
    await t.api.tasks.create({ title: "a", assignee: "x", tenant: "acme", priority: 2 });
    await t.api.tasks.create({ title: "b", assignee: "y", priority: 1 });
    const archived = (await t.api.tasks.create({ title: "c" })).task;
    await t.api.tasks.archive({ id: archived.id });
    expect((await t.api.tasks.list()).tasks.map((x) => x.title)).toEqual(["a", "b"]);
    expect((await t.api.tasks.list({ tenant: "acme" })).tasks.map((x) => x.title)).toEqual(["a"]);
    expect((await t.api.tasks.list({ assignee: "Y" })).tasks.map((x) => x.title)).toEqual(["b"]);
    expect((await t.api.tasks.list({ include_archived: true, order_by: "title" })).tasks.map((x) => x.title)).toEqual([
      "a",
      "b",
      "c",
    ]);
    expect((await t.api.tasks.list({ limit: 1 })).tasks).toHaveLength(1);
    expect(await codeOf(t.api.tasks.list({ status: "bogus" }))).toBe("BAD_REQUEST");
  });
});

describe("tasks.patch", () => {
  it("refuses status running directly with Hermes' text (400)", async () => {
    const { task } = await t.api.tasks.create({ title: "t" });
    const p = t.api.tasks.patch({ id: task.id, status: "running" });
    expect(await messageOf(p)).toBe("Cannot set status to 'running' directly; use the dispatcher/claim path");
    expect(await codeOf(t.api.tasks.patch({ id: task.id, status: "running" }))).toBe("BAD_REQUEST");
    expect(await messageOf(t.api.tasks.patch({ id: task.id, status: "sideways" }))).toBe("unknown status: sideways");
  });

  it("refuses ready with unfinished parents (409) and names them", async () => {
    const parent = (await t.api.tasks.create({ title: "design" })).task;
    const child = (await t.api.tasks.create({ title: "build", parents: [parent.id] })).task;
    const p = t.api.tasks.patch({ id: child.id, status: "ready" });
    expect(await codeOf(p)).toBe("CONFLICT");
    expect(await messageOf(t.api.tasks.patch({ id: child.id, status: "ready" }))).toBe(
      `Cannot move to 'ready': blocked by parent(s) not done — 'design' (${parent.id}, status=ready)`,
    );
  });

  it("refuses a new assignee on a running, claimed task (409) before touching the status", async () => {
    const { task } = await t.api.tasks.create({ title: "t", assignee: "a" });
    await t.api.tasks.claim({ id: task.id });
    expect(await codeOf(t.api.tasks.patch({ id: task.id, assignee: "b", status: "blocked" }))).toBe("CONFLICT");
    expect(await t.board().getTask(task.id)).toMatchObject({ status: "running", assignee: "a" });
    // The unchanged assignee is not a reassignment.
    expect((await t.api.tasks.patch({ id: task.id, assignee: "A", priority: 2 })).task.priority).toBe(2);
  });

  it("completes with summary and metadata when moved to done", async () => {
    const { task } = await t.api.tasks.create({ title: "t" });
    const r = await t.api.tasks.patch({ id: task.id, status: "done", result: "R", summary: "S", metadata: { k: 1 } });
    expect(r.task).toMatchObject({ status: "done", result: "R" });
    const run = (await t.board().listRuns(task.id))[0];
    expect(run).toMatchObject({ outcome: "completed", summary: "S", metadata: { k: 1 } });
  });

  it("blocks with a reason, unblocks by moving to ready, schedules, and pushes back to triage", async () => {
    const { task } = await t.api.tasks.create({ title: "t" });
    expect((await t.api.tasks.patch({ id: task.id, status: "blocked", block_reason: "need input" })).task.status).toBe(
      "blocked",
    );
    expect((await t.api.tasks.patch({ id: task.id, status: "ready" })).task.status).toBe("ready");
    expect((await t.api.tasks.patch({ id: task.id, status: "scheduled" })).task.status).toBe("scheduled");
    expect((await t.api.tasks.patch({ id: task.id, status: "ready" })).task.status).toBe("ready");
    expect((await t.api.tasks.patch({ id: task.id, status: "triage" })).task.status).toBe("triage");
  });

  it("archiving a running task closes its run and terminates its worker", async () => {
    const { task } = await t.api.tasks.create({ title: "t" });
    await claimWithWorker(task.id, 2_000_000_002);
    await t.api.tasks.patch({ id: task.id, status: "archived" });
    expect((await t.board().listRuns(task.id))[0]).toMatchObject({ outcome: "reclaimed" });
    expect(t.terminated.map((x) => x.pid)).toEqual([2_000_000_002]);
  });

  it("applies assignee, model, priority and title/body, recording reprioritized and edited events", async () => {
    const { task } = await t.api.tasks.create({ title: "t" });
    const r = await t.api.tasks.patch({
      id: task.id,
      assignee: "Coder",
      priority: 5,
      title: "new",
      body: "B",
      model_override: "m1",
    });
    expect(r.task).toMatchObject({ assignee: "coder", priority: 5, title: "new", body: "B", model_override: "m1" });
    const kinds = (await t.board().listEvents(task.id)).map((e) => e.kind);
    expect(kinds).toEqual(["created", "assigned", "edited", "reprioritized", "edited"]);
    expect((await t.api.tasks.patch({ id: task.id, clear_model_override: true, assignee: "" })).task).toMatchObject({
      model_override: null,
      assignee: null,
    });
    expect(await messageOf(t.api.tasks.patch({ id: task.id, title: " " }))).toBe("title is required");
  });

  it("is NOT_FOUND for an unknown task", async () => {
    expect(await codeOf(t.api.tasks.patch({ id: "t_gone", priority: 1 }))).toBe("NOT_FOUND");
  });
});

describe("tasks.delete", () => {
  it("hard-deletes from any status, terminating a running worker", async () => {
    const { task } = await t.api.tasks.create({ title: "t" });
    await claimWithWorker(task.id, 2_000_000_003);
    expect(await t.api.tasks.delete({ id: task.id })).toEqual({ deleted: true, task_id: task.id });
    expect(await t.board().getTask(task.id)).toBeNull();
    expect(t.terminated.map((x) => x.pid)).toEqual([2_000_000_003]);
    expect(await codeOf(t.api.tasks.delete({ id: task.id }))).toBe("NOT_FOUND");
  });

  it("with archived_only refuses a live task (409)", async () => {
    const { task } = await t.api.tasks.create({ title: "t" });
    expect(await codeOf(t.api.tasks.delete({ id: task.id, archived_only: true }))).toBe("CONFLICT");
    await t.api.tasks.archive({ id: task.id });
    await t.api.tasks.delete({ id: task.id, archived_only: true });
    expect(await t.board().getTask(task.id)).toBeNull();
  });
});

describe("tasks.bulk", () => {
  it("refuses an empty id list (400)", async () => {
    expect(await messageOf(t.api.tasks.bulk({ ids: [], status: "ready" }))).toBe("ids: ids must not be empty");
  });

  it("applies per id independently: one bad id does not stop the others", async () => {
    const a = (await t.api.tasks.create({ title: "a" })).task;
    const b = (await t.api.tasks.create({ title: "b" })).task;
    const { results } = await t.api.tasks.bulk({
      ids: [a.id, "t_missing", b.id],
      status: "blocked",
      block_reason: "wait",
    });
    expect(results).toEqual([
      { id: a.id, ok: true },
      { id: "t_missing", ok: false, error: "not found" },
      { id: b.id, ok: true },
    ]);
    expect((await t.board().getTask(b.id))?.status).toBe("blocked");
  });

  it("rejects running per id, like patch", async () => {
    const a = (await t.api.tasks.create({ title: "a" })).task;
    const { results } = await t.api.tasks.bulk({ ids: [a.id], status: "running" });
    expect(results[0]).toEqual({
      id: a.id,
      ok: false,
      error: "transition to 'running' refused: Cannot set status to 'running' directly; use the dispatcher/claim path",
    });
  });

  it("forwards the completion summary when moving to done", async () => {
    const a = (await t.api.tasks.create({ title: "a" })).task;
    await t.api.tasks.bulk({ ids: [a.id], status: "done", summary: "shipped" });
    expect(await t.board().latestSummary(a.id)).toBe("shipped");
  });

  it('reassigns ("" unassigns), reclaiming running tasks first when asked', async () => {
    const a = (await t.api.tasks.create({ title: "a", assignee: "x" })).task;
    const b = (await t.api.tasks.create({ title: "b", assignee: "x" })).task;
    await claimWithWorker(b.id, 2_000_000_004);
    const refused = await t.api.tasks.bulk({ ids: [a.id, b.id], assignee: "y" });
    expect(refused.results.map((r) => r.ok)).toEqual([true, false]);
    expect(refused.results[1]?.error).toMatch(/^assign refused/);
    const ok = await t.api.tasks.bulk({ ids: [b.id], assignee: "y", reclaim_first: true });
    expect(ok.results).toEqual([{ id: b.id, ok: true }]);
    expect(await t.board().getTask(b.id)).toMatchObject({ assignee: "y", status: "ready" });
    expect(t.terminated.map((x) => x.pid)).toEqual([2_000_000_004]);
    await t.api.tasks.bulk({ ids: [a.id], assignee: "" });
    expect((await t.board().getTask(a.id))?.assignee).toBeNull();
  });

  it("archives and reprioritises", async () => {
    const a = (await t.api.tasks.create({ title: "a" })).task;
    const b = (await t.api.tasks.create({ title: "b" })).task;
    await t.api.tasks.bulk({ ids: [a.id], priority: 7 });
    expect((await t.board().getTask(a.id))?.priority).toBe(7);
    await t.api.tasks.bulk({ ids: [a.id, b.id], archive: true });
    const again = await t.api.tasks.bulk({ ids: [a.id], archive: true });
    expect((await t.board().getTask(b.id))?.status).toBe("archived");
    expect(again.results[0]?.error).toBe(`archive refused: task ${a.id} is already archived`);
  });
});

describe("worker lifecycle: claim, heartbeat, complete, fencing", () => {
  it("claims a ready task and 409s a second claim with status and lock", async () => {
    const { task } = await t.api.tasks.create({ title: "t" });
    const claimed = await t.api.tasks.claim({ id: task.id, claimer: "w1", ttl_seconds: 60 });
    expect(claimed.task).toMatchObject({ status: "running", claim_lock: "w1" });
    expect(await messageOf(t.api.tasks.claim({ id: task.id }))).toBe(`cannot claim ${task.id}: status=running lock=w1`);
    expect(await codeOf(t.api.tasks.claim({ id: "t_unknown" }))).toBe("NOT_FOUND");
  });

  it("heartbeats extend the lease and record an event; a stale run id is CONFLICT", async () => {
    const { task } = await t.api.tasks.create({ title: "t" });
    const { run_id } = await t.api.tasks.claim({ id: task.id, ttl_seconds: 60 });
    t.clock.advance(30);
    await t.api.tasks.heartbeat({ id: task.id, expected_run_id: run_id, note: "halfway", ttl_seconds: 600 });
    expect((await t.board().getTask(task.id))?.claim_expires).toBe(t.clock.seconds + 600);
    expect((await t.board().listEvents(task.id)).at(-1)).toMatchObject({
      kind: "heartbeat",
      payload: { note: "halfway" },
    });
    expect(await codeOf(t.api.tasks.heartbeat({ id: task.id, expected_run_id: (run_id ?? 0) + 100 }))).toBe("CONFLICT");
    // Only the holder may extend a lease: no fence at all is bad input.
    expect(await codeOf(t.api.tasks.heartbeat({ id: task.id }))).toBe("BAD_REQUEST");
    await t.api.tasks.block({ id: task.id });
    expect(await codeOf(t.api.tasks.heartbeat({ id: task.id, expected_run_id: run_id }))).toBe("CONFLICT");
  });

  it("a heartbeat is one write: when its event cannot be stored the lease is not extended either", async () => {
    const { task } = await t.api.tasks.create({ title: "t" });
    const { run_id } = await t.api.tasks.claim({ id: task.id, ttl_seconds: 60 });
    const expires = (await t.board().getTask(task.id))?.claim_expires;
    await refuseInserts(t.board(), {
      table: "task_events",
      where: { column: "kind", equals: "heartbeat" },
      message: "heartbeat refused",
    });
    t.clock.advance(30);
    await expect(t.api.tasks.heartbeat({ id: task.id, expected_run_id: run_id, ttl_seconds: 600 })).rejects.toThrow();
    expect(await t.board().getTask(task.id)).toMatchObject({ claim_expires: expires, last_heartbeat_at: null });
  });

  it("a reclaimed worker's late completion is refused (STALE_RUN → CONFLICT) and the new attempt is untouched", async () => {
    const { task } = await t.api.tasks.create({ title: "t" });
    const first = await t.api.tasks.claim({ id: task.id });
    await t.api.tasks.reclaim({ id: task.id });
    const second = await t.api.tasks.claim({ id: task.id });
    const err = t.api.tasks.complete({ id: task.id, expected_run_id: first.run_id, summary: "late" });
    expect(await codeOf(err)).toBe("CONFLICT");
    expect(await t.board().getTask(task.id)).toMatchObject({ status: "running", current_run_id: second.run_id });
    const done = await t.api.tasks.complete({
      id: task.id,
      expected_run_id: second.run_id,
      result: "ok",
      summary: "done",
    });
    expect(done).toMatchObject({ task: { status: "done" }, run_id: second.run_id });
  });

  it("phantom created_cards are PRECONDITION_FAILED with the ids in the error details", async () => {
    const { task } = await t.api.tasks.create({ title: "t", assignee: "w" });
    await t.api.tasks.claim({ id: task.id });
    try {
      await t.api.tasks.complete({ id: task.id, summary: "made cards", created_cards: ["t_deadbeef00"] });
      throw new Error("expected a refusal");
    } catch (err) {
      expect(err).toBeInstanceOf(TRPCError);
      expect((err as TRPCError).code).toBe("PRECONDITION_FAILED");
      expect(((err as TRPCError).cause as { details?: unknown }).details).toMatchObject({ phantom: ["t_deadbeef00"] });
    }
    expect((await t.board().getTask(task.id))?.status).toBe("running");
  });

  it("completing a done task is CONFLICT", async () => {
    const { task } = await t.api.tasks.create({ title: "t" });
    await t.api.tasks.complete({ id: task.id });
    expect(await codeOf(t.api.tasks.complete({ id: task.id }))).toBe("CONFLICT");
  });
});

describe("block, schedule, unblock, promote, archive, editResult", () => {
  it("block with comment_author also records a BLOCKED: comment; wrong state is CONFLICT", async () => {
    const { task } = await t.api.tasks.create({ title: "t" });
    await t.api.tasks.block({ id: task.id, reason: "need keys", comment_author: "bot" });
    expect((await t.board().listComments(task.id)).map((c) => [c.author, c.body])).toEqual([
      ["bot", "BLOCKED: need keys"],
    ]);
    expect(await codeOf(t.api.tasks.block({ id: task.id }))).toBe("CONFLICT");
    expect((await t.api.tasks.unblock({ id: task.id, reason: "keys sent", comment_author: "ann" })).task.status).toBe(
      "ready",
    );
    expect(await codeOf(t.api.tasks.unblock({ id: task.id }))).toBe("CONFLICT");
  });

  it("block/unblock and their comment are one write: a refused comment leaves the status as it was", async () => {
    const { task } = await t.api.tasks.create({ title: "t" });
    await refuseInserts(t.board(), { table: "task_comments", message: "comments refused" });
    await expect(t.api.tasks.block({ id: task.id, reason: "need keys", comment_author: "bot" })).rejects.toThrow();
    expect((await t.board().requireTask(task.id)).status).toBe("ready");
    await t.api.tasks.block({ id: task.id, reason: "need keys" });
    await expect(t.api.tasks.unblock({ id: task.id, reason: "sent", comment_author: "ann" })).rejects.toThrow();
    expect((await t.board().requireTask(task.id)).status).toBe("blocked");
    expect(await t.board().listComments(task.id)).toEqual([]);
  });

  it("schedule parks a task until unblock", async () => {
    const { task } = await t.api.tasks.create({ title: "t" });
    expect((await t.api.tasks.schedule({ id: task.id, reason: "tomorrow", comment_author: "ann" })).task.status).toBe(
      "scheduled",
    );
    expect((await t.board().listComments(task.id))[0]?.body).toBe("SCHEDULED: tomorrow");
    expect((await t.api.tasks.unblock({ id: task.id })).task.status).toBe("ready");
  });

  it("promote moves todo to ready, refuses unfinished parents (409), supports dry_run", async () => {
    const p = (await t.api.tasks.create({ title: "p" })).task;
    const c = (await t.api.tasks.create({ title: "c", parents: [p.id] })).task;
    expect(await messageOf(t.api.tasks.promote({ id: c.id }))).toMatch(
      new RegExp(`^cannot promote ${c.id}: unsatisfied parent dependencies: ${p.id} \\(ready\\)`),
    );
    await t.api.links.remove({ parent_id: p.id, child_id: c.id });
    const todo = (await t.api.tasks.create({ title: "todo", triage: true })).task;
    await t.api.tasks.patch({ id: todo.id, status: "todo" });
    expect(await t.api.tasks.promote({ id: todo.id, dry_run: true })).toMatchObject({ promoted: false, dry_run: true });
    expect((await t.board().getTask(todo.id))?.status).toBe("todo");
    expect(await t.api.tasks.promote({ id: todo.id, reason: "go" })).toMatchObject({
      promoted: true,
      reason: "go",
      error: null,
    });
    expect((await t.board().getTask(todo.id))?.status).toBe("ready");
    expect(await codeOf(t.api.tasks.promote({ id: "t_none" }))).toBe("NOT_FOUND");
  });

  it("archive twice is CONFLICT; editResult works on done tasks only", async () => {
    const { task } = await t.api.tasks.create({ title: "t" });
    expect(await codeOf(t.api.tasks.editResult({ id: task.id, result: "r" }))).toBe("CONFLICT");
    await t.api.tasks.complete({ id: task.id, result: "first" });
    expect((await t.api.tasks.editResult({ id: task.id, result: "second", summary: "s2" })).task.result).toBe("second");
    expect(await t.board().latestSummary(task.id)).toBe("s2");
    await t.api.tasks.archive({ id: task.id });
    expect(await codeOf(t.api.tasks.archive({ id: task.id }))).toBe("CONFLICT");
  });
});

describe("reclaim and reassign", () => {
  it("reclaim releases a running claim, terminates the worker, and 409s with Hermes' text when not running", async () => {
    const { task } = await t.api.tasks.create({ title: "t" });
    await claimWithWorker(task.id, 2_000_000_005);
    expect(await t.api.tasks.reclaim({ id: task.id, reason: "stuck" })).toMatchObject({
      ok: true,
      task_id: task.id,
      task: { status: "ready" },
    });
    expect(t.terminated.map((x) => x.pid)).toEqual([2_000_000_005]);
    expect((await t.board().listEvents(task.id)).at(-1)).toMatchObject({
      kind: "reclaimed",
      payload: { manual: true, reason: "stuck" },
    });
    expect(await messageOf(t.api.tasks.reclaim({ id: task.id }))).toBe(
      `cannot reclaim ${task.id}: not in a claimable state (not running, or unknown id)`,
    );
    expect(await codeOf(t.api.tasks.reclaim({ id: task.id }))).toBe("CONFLICT");
    expect(await codeOf(t.api.tasks.reclaim({ id: "t_nobody" }))).toBe("NOT_FOUND");
  });

  it("reassign switches profile; a running task needs reclaim_first (409 text)", async () => {
    const { task } = await t.api.tasks.create({ title: "t", assignee: "a" });
    expect(await t.api.tasks.reassign({ id: task.id, profile: "b" })).toEqual({
      ok: true,
      task_id: task.id,
      assignee: "b",
    });
    await t.api.tasks.claim({ id: task.id });
    expect(await messageOf(t.api.tasks.reassign({ id: task.id, profile: "c" }))).toBe(
      `cannot reassign ${task.id}: unknown id, or still running (pass reclaim_first=true to release the claim first)`,
    );
    expect(await codeOf(t.api.tasks.reassign({ id: task.id, profile: "c" }))).toBe("CONFLICT");
    expect(await t.api.tasks.reassign({ id: task.id, profile: "c", reclaim_first: true })).toMatchObject({
      ok: true,
      assignee: "c",
    });
    expect((await t.board().getTask(task.id))?.status).toBe("ready");
    expect((await t.api.tasks.reassign({ id: task.id, profile: "" })).assignee).toBeNull();
  });
});

describe("tasks.context and tasks.log", () => {
  it("returns the worker context text", async () => {
    const { task } = await t.api.tasks.create({ title: "ctx", body: "do the thing" });
    const r = await t.api.tasks.context({ id: task.id });
    expect(r.context).toContain("## Body");
    expect(r.context).toContain("do the thing");
  });

  it("reads the log tail, dropping a partial first line, and reports a missing log", async () => {
    const { task } = await t.api.tasks.create({ title: "t" });
    const file = path.join(logsDir(t.location, "default"), `${task.id}.log`);
    expect(await t.api.tasks.log({ id: task.id })).toEqual({
      task_id: task.id,
      path: file,
      exists: false,
      size_bytes: 0,
      start: 0,
      content: "",
      truncated: false,
    });
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, "line one\nline two\nline three\n");
    expect(await t.api.tasks.log({ id: task.id })).toMatchObject({
      exists: true,
      size_bytes: 29,
      content: "line one\nline two\nline three\n",
      truncated: false,
    });
    expect(await t.api.tasks.log({ id: task.id, tail: 15 })).toMatchObject({
      content: "line three\n",
      truncated: true,
    });
    // Paging back: the page before ends where this one starts, and the pages join up to the whole log.
    const last = await t.api.tasks.log({ id: task.id, tail: 15 });
    expect(last.start).toBe(18);
    const before = await t.api.tasks.log({ id: task.id, tail: 15, before: last.start });
    expect(before).toMatchObject({ content: "line two\n", start: 9, truncated: true });
    const first = await t.api.tasks.log({ id: task.id, tail: 15, before: before.start });
    expect(first).toMatchObject({ content: "line one\n", start: 0, truncated: false });
    expect(first.content + before.content + last.content).toBe("line one\nline two\nline three\n");
    // One line longer than a page, of characters two to four bytes long: the pages cut it only
    // between characters, and join up to it.
    const line = "é€😀".repeat(5_000);
    fs.writeFileSync(file, `${line}\n`);
    const pages: string[] = [];
    let page = await t.api.tasks.log({ id: task.id, tail: 1_001 });
    pages.unshift(page.content);
    while (page.truncated) {
      page = await t.api.tasks.log({ id: task.id, tail: 1_001, before: page.start });
      pages.unshift(page.content);
    }
    expect(pages.length).toBeGreaterThan(40);
    for (const p of pages) expect(p).not.toContain("\uFFFD");
    expect(pages.join("")).toBe(`${line}\n`);
    expect(await codeOf(t.api.tasks.log({ id: task.id, before: -1 }))).toBe("BAD_REQUEST");
    expect(await codeOf(t.api.tasks.log({ id: task.id, tail: 0 }))).toBe("BAD_REQUEST");
    expect(await codeOf(t.api.tasks.log({ id: task.id, tail: 2_000_001 }))).toBe("BAD_REQUEST");
    expect(await codeOf(t.api.tasks.log({ id: "t_missing" }))).toBe("NOT_FOUND");
  });
});

describe("tasks.recompute", () => {
  it("promotes todo tasks whose parents finished", async () => {
    const p = (await t.api.tasks.create({ title: "p" })).task;
    const c = (await t.api.tasks.create({ title: "c", parents: [p.id] })).task;
    await rawSql(t.board()).run("UPDATE tasks SET status = 'done' WHERE id = ?", p.id);
    expect(await t.api.tasks.recompute()).toEqual({ promoted: 1 });
    expect((await t.board().getTask(c.id))?.status).toBe("ready");
  });
});
