import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { BoardContext } from "./context.ts";
import { createTask } from "./create.ts";
import { KernelError } from "./errors.ts";
import { boardStats, DEFAULT_EVENT_RETENTION_SECONDS, gcEvents, knownAssignees, taskAge } from "./stats.ts";
import { createTestContext, type TestContext } from "./testing/helpers.ts";
import type { TestClock } from "./testing/test-clock.ts";

const T0 = 1_750_000_000;
const DAY = 86_400;

let db: TestContext["db"];
let clock: TestClock;
let ctx: BoardContext;

beforeEach(() => {
  ({ db, clock, ctx } = createTestContext(T0));
});

afterEach(() => {
  db.cleanup();
});

function setStatus(taskId: string, status: string): void {
  db.sqlite.prepare("UPDATE tasks SET status = ? WHERE id = ?").run(status, taskId);
}

function insertEvent(taskId: string, kind: string, createdAt: number): void {
  db.sqlite
    .prepare("INSERT INTO task_events (task_id, kind, created_at) VALUES (?, ?, ?)")
    .run(taskId, kind, createdAt);
}

function eventKinds(taskId: string): string[] {
  return (
    db.sqlite.prepare("SELECT kind FROM task_events WHERE task_id = ? ORDER BY id").all(taskId) as { kind: string }[]
  ).map((r) => r.kind);
}

describe("boardStats", () => {
  it("counts non-archived tasks by status", async () => {
    await createTask(ctx, { title: "a" });
    await createTask(ctx, { title: "b" });
    await createTask(ctx, { title: "c", initial_status: "blocked" });
    setStatus((await createTask(ctx, { title: "d" })).id, "archived");
    expect((await boardStats(ctx)).by_status).toEqual({ ready: 2, blocked: 1 });
  });

  it("counts assigned non-archived tasks by assignee and status", async () => {
    await createTask(ctx, { title: "a", assignee: "coder" });
    await createTask(ctx, { title: "b", assignee: "coder", initial_status: "blocked" });
    await createTask(ctx, { title: "c", assignee: "reviewer" });
    await createTask(ctx, { title: "d" });
    setStatus((await createTask(ctx, { title: "e", assignee: "ghost" })).id, "archived");
    expect((await boardStats(ctx)).by_assignee).toEqual({ coder: { ready: 1, blocked: 1 }, reviewer: { ready: 1 } });
  });

  it("measures the oldest ready task's age from its creation, and reports now", async () => {
    await createTask(ctx, { title: "old" });
    clock.advance(600);
    await createTask(ctx, { title: "new" });
    clock.advance(400);
    const stats = await boardStats(ctx);
    expect(stats.oldest_ready_age_seconds).toBe(1000);
    expect(stats.now).toBe(T0 + 1000);
  });

  it("reports no oldest ready age when nothing is ready", async () => {
    await createTask(ctx, { title: "parked", initial_status: "blocked" });
    expect((await boardStats(ctx)).oldest_ready_age_seconds).toBeNull();
  });
});

describe("taskAge", () => {
  it("gives created and started ages and the time from first claim to completion", () => {
    expect(taskAge({ created_at: T0 - 500, started_at: T0 - 300, completed_at: T0 - 100 }, T0)).toEqual({
      created_age_seconds: 500,
      started_age_seconds: 300,
      time_to_complete_seconds: 200,
    });
  });

  it("leaves started age and time to complete null for a task never claimed or not finished", () => {
    expect(taskAge({ created_at: T0 - 50, started_at: null, completed_at: null }, T0)).toEqual({
      created_age_seconds: 50,
      started_age_seconds: null,
      time_to_complete_seconds: null,
    });
    expect(
      taskAge({ created_at: T0 - 50, started_at: T0 - 20, completed_at: null }, T0).time_to_complete_seconds,
    ).toBeNull();
  });
});

describe("gcEvents", () => {
  it("deletes events older than the cutoff of done and archived tasks and returns how many", async () => {
    const done = await createTask(ctx, { title: "done" });
    const archived = await createTask(ctx, { title: "archived" });
    setStatus(done.id, "done");
    setStatus(archived.id, "archived");
    clock.advance(10 * DAY);
    insertEvent(done.id, "completed", T0 + 10 * DAY);
    expect(await gcEvents(ctx, 5 * DAY)).toBe(2);
    expect(eventKinds(done.id)).toEqual(["completed"]);
    expect(eventKinds(archived.id)).toEqual([]);
  });

  it("keeps the whole history of tasks that are not done or archived", async () => {
    const live = await createTask(ctx, { title: "live", initial_status: "blocked" });
    clock.advance(100 * DAY);
    expect(await gcEvents(ctx, DAY)).toBe(0);
    expect(eventKinds(live.id)).toEqual(["created", "blocked"]);
  });

  it("keeps decomposed events, which link a task to its children", async () => {
    const parent = await createTask(ctx, { title: "decomposed" });
    insertEvent(parent.id, "decomposed", T0);
    setStatus(parent.id, "done");
    clock.advance(100 * DAY);
    expect(await gcEvents(ctx, DAY)).toBe(1);
    expect(eventKinds(parent.id)).toEqual(["decomposed"]);
  });

  it("keeps events younger than the default 30 days", async () => {
    const done = await createTask(ctx, { title: "done" });
    setStatus(done.id, "done");
    clock.advance(DEFAULT_EVENT_RETENTION_SECONDS);
    expect(DEFAULT_EVENT_RETENTION_SECONDS).toBe(30 * DAY);
    expect(await gcEvents(ctx)).toBe(0);
    clock.advance(1);
    expect(await gcEvents(ctx)).toBe(1);
  });

  it("refuses a negative retention", async () => {
    await expect(gcEvents(ctx, -1)).rejects.toThrow(KernelError);
  });
});

describe("knownAssignees", () => {
  it("merges profiles on disk with the board's assignees, sorted, with non-archived counts", async () => {
    await createTask(ctx, { title: "a", assignee: "coder" });
    await createTask(ctx, { title: "b", assignee: "coder", initial_status: "blocked" });
    await createTask(ctx, { title: "c", assignee: "board-only" });
    setStatus((await createTask(ctx, { title: "d", assignee: "coder" })).id, "archived");
    expect(await knownAssignees(ctx, ["reviewer", "coder"])).toEqual([
      { name: "board-only", on_disk: false, counts: { ready: 1 } },
      { name: "coder", on_disk: true, counts: { ready: 1, blocked: 1 } },
      { name: "reviewer", on_disk: true, counts: {} },
    ]);
  });

  it("matches disk profile names to assignees case-insensitively and ignores blank names", async () => {
    await createTask(ctx, { title: "a", assignee: "coder" });
    expect(await knownAssignees(ctx, [" Coder ", ""])).toEqual([
      { name: "coder", on_disk: true, counts: { ready: 1 } },
    ]);
  });
});
