import { rawSql } from "@kanban/kernel/testing";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { countStatements, seedBoard } from "../test/board-seed.ts";
import { createTestApi, type TestApi } from "../testing.ts";

let t: TestApi;
beforeEach(() => {
  t = createTestApi();
});
afterEach(async () => {
  vi.restoreAllMocks();
  await t.cleanup();
});

function column(view: { columns: { name: string }[] }, name: string) {
  const c = view.columns.find((x) => x.name === name);
  if (!c) throw new Error(`no column ${name}`);
  return c as (typeof view.columns)[number] & {
    tasks: { id: string; title: string }[];
    total: number;
    next_cursor: string | null;
  };
}

describe("board.get", () => {
  it("lists the columns in Hermes' order, archived only when asked", async () => {
    const view = await t.api.board.get();
    expect(view.columns.map((c) => c.name)).toEqual([
      "triage",
      "todo",
      "scheduled",
      "ready",
      "running",
      "blocked",
      "review",
      "done",
    ]);
    expect((await t.api.board.get({ include_archived: true })).columns.map((c) => c.name).at(-1)).toBe("archived");
    expect(view).toMatchObject({
      board: "default",
      tenants: [],
      assignees: [],
      latest_event_id: 0,
      now: t.clock.seconds,
    });
  });

  it("puts each task in its status column, unknown statuses in todo, scheduled in its own column", async () => {
    const a = (await t.api.tasks.create({ title: "ready one" })).task;
    const b = (await t.api.tasks.create({ title: "later" })).task;
    await t.api.tasks.schedule({ id: b.id });
    const c = (await t.api.tasks.create({ title: "future status" })).task;
    await rawSql(t.board()).run("UPDATE tasks SET status = 'qa_pending' WHERE id = ?", c.id);
    const tri = (await t.api.tasks.create({ title: "idea", triage: true })).task;
    const view = await t.api.board.get();
    expect(column(view, "ready").tasks.map((x) => x.id)).toEqual([a.id]);
    expect(column(view, "scheduled").tasks.map((x) => x.id)).toEqual([b.id]);
    expect(column(view, "todo").tasks.map((x) => x.id)).toEqual([c.id]);
    expect(column(view, "triage").tasks.map((x) => x.id)).toEqual([tri.id]);
  });

  it("decorates cards: age, 200-char latest summary, link and comment counts, progress, diagnostics and warnings", async () => {
    const parent = (await t.api.tasks.create({ title: "parent", assignee: "w" })).task;
    const kid1 = (await t.api.tasks.create({ title: "k1", parents: [parent.id] })).task;
    await t.api.tasks.create({ title: "k2", parents: [parent.id] });
    await t.api.comments.add({ task_id: parent.id, body: "one" });
    await t.api.comments.add({ task_id: parent.id, body: "two" });
    await t.api.tasks.claim({ id: parent.id });
    t.clock.advance(90);
    await expect(
      t.api.tasks.complete({ id: parent.id, summary: "x".repeat(300), created_cards: ["t_0123456789ab"] }),
    ).rejects.toThrow();
    await t.api.tasks.complete({ id: parent.id, summary: "s".repeat(300) });
    await rawSql(t.board()).run("UPDATE tasks SET status = 'done' WHERE id = ?", kid1.id);
    t.clock.advance(10);
    const view = await t.api.board.get();
    const card = column(view, "done").tasks.find((x) => x.id === parent.id) as unknown as Record<string, unknown>;
    expect(card).toMatchObject({
      age: { created_age_seconds: 100, started_age_seconds: 100, time_to_complete_seconds: 90 },
      link_counts: { parents: 0, children: 2 },
      comment_count: 2,
      progress: { done: 1, total: 2 },
      warnings: null,
      diagnostics: [],
    });
    expect(card.latest_summary).toBe("s".repeat(200));
    const kidCard = column(view, "done").tasks.find((x) => x.id === kid1.id) as unknown as Record<string, unknown>;
    expect(kidCard).toMatchObject({
      link_counts: { parents: 1, children: 0 },
      progress: null,
      comment_count: 0,
      latest_summary: null,
    });
  });

  it("badges a card with a pending hallucination (warnings summary + diagnostics) until a clean completion", async () => {
    const { task } = await t.api.tasks.create({ title: "w", assignee: "w" });
    await t.api.tasks.claim({ id: task.id });
    await expect(t.api.tasks.complete({ id: task.id, created_cards: ["t_feedfacecafe"] })).rejects.toThrow();
    const view = await t.api.board.get();
    const card = column(view, "running").tasks[0] as unknown as {
      warnings: Record<string, unknown>;
      diagnostics: { kind: string }[];
    };
    expect(card.warnings).toMatchObject({ count: 1, kinds: { hallucinated_cards: 1 }, highest_severity: "error" });
    expect(card.diagnostics.map((d) => d.kind)).toEqual(["hallucinated_cards"]);
    await t.api.tasks.complete({ id: task.id, summary: "fine" });
    const after = column(await t.api.board.get(), "done").tasks[0] as unknown as { warnings: unknown };
    expect(after.warnings).toBeNull();
  });

  it("a running card shows its current run's start beside the task's first claim, and its liveness fields", async () => {
    const { task } = await t.api.tasks.create({ title: "r" });
    await t.api.tasks.claim({ id: task.id, claimer: "host:1", ttl_seconds: 100 });
    await t.api.tasks.reclaim({ id: task.id });
    t.clock.advance(500);
    const { run_id } = await t.api.tasks.claim({ id: task.id, claimer: "host:2", ttl_seconds: 100 });
    await t.board().recordSpawn(task.id, 4321, run_id ?? 0);
    t.clock.advance(5);
    await t.api.tasks.heartbeat({ id: task.id, claim_lock: "host:2", ttl_seconds: 100 });
    const card = column(await t.api.board.get(), "running").tasks[0] as unknown as Record<string, unknown>;
    const firstStart = t.clock.seconds - 505;
    expect((await t.board().getTask(task.id))?.started_at).toBe(firstStart);
    expect(card).toMatchObject({
      started_at: firstStart,
      run_started_at: firstStart + 500,
      last_heartbeat_at: t.clock.seconds,
      claim_expires: t.clock.seconds + 100,
      worker_pid: 4321,
      claim_lock: "host:2",
    });
  });

  it("pages done server-side: done_limit newest first, total, and board.column continues by cursor", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const { task } = await t.api.tasks.create({ title: `d${i}` });
      t.clock.advance(1);
      await t.api.tasks.complete({ id: task.id });
      ids.push(task.id);
    }
    const view = await t.api.board.get({ done_limit: 3 });
    const done = column(view, "done");
    expect(done.total).toBe(7);
    expect(done.tasks.map((x) => x.title)).toEqual(["d6", "d5", "d4"]);
    expect(done.next_cursor).not.toBeNull();
    const page2 = await t.api.board.column({ column: "done", cursor: done.next_cursor, limit: 3 });
    expect(page2.tasks.map((x) => x.title)).toEqual(["d3", "d2", "d1"]);
    const page3 = await t.api.board.column({ column: "done", cursor: page2.next_cursor, limit: 3 });
    expect(page3.tasks.map((x) => x.title)).toEqual(["d0"]);
    expect(page3).toMatchObject({ total: 7, next_cursor: null });
    expect(
      await t.api.board.column({ column: "done", cursor: "garbage!", limit: 3 }).catch((e: Error) => e.message),
    ).toBe("invalid cursor");
  });

  it("pages an active column by priority then age", async () => {
    for (const [title, priority] of [
      ["low", 0],
      ["high", 5],
      ["mid", 2],
      ["mid2", 2],
    ] as const) {
      await t.api.tasks.create({ title, priority });
      t.clock.advance(1);
    }
    const first = await t.api.board.column({ column: "ready", limit: 2 });
    expect(first.tasks.map((x) => x.title)).toEqual(["high", "mid"]);
    const rest = await t.api.board.column({ column: "ready", cursor: first.next_cursor, limit: 2 });
    expect(rest.tasks.map((x) => x.title)).toEqual(["mid2", "low"]);
    expect(rest.next_cursor).toBeNull();
    expect(column(await t.api.board.get(), "ready").tasks.map((x) => x.title)).toEqual(["high", "mid", "mid2", "low"]);
  });

  it("filters by tenant, assignee, search, workflow template and step; lists tenants and assignees", async () => {
    await t.api.tasks.create({ title: "alpha", tenant: "acme", assignee: "ann" });
    await t.api.tasks.create({ title: "beta", tenant: "zeta", assignee: "bob", body: "needle here" });
    await t.api.tasks.create({ title: "gamma", workflow_template_id: "wf", current_step_key: "s1" });
    const titles = async (input: Parameters<typeof t.api.board.get>[0]) =>
      (await t.api.board.get(input)).columns.flatMap((c) => c.tasks.map((x) => x.title)).sort();
    expect(await titles({ tenant: "acme" })).toEqual(["alpha"]);
    expect(await titles({ assignee: "BOB" })).toEqual(["beta"]);
    expect(await titles({ search: "NEEDLE" })).toEqual(["beta"]);
    expect(await titles({ search: "100%" })).toEqual([]);
    expect(await titles({ workflow_template_id: "wf", current_step_key: "s1" })).toEqual(["gamma"]);
    await t.api.tasks.create({ title: "alpha 2", tenant: "acme", assignee: "ann" });
    const gone = (await t.api.tasks.create({ title: "old", tenant: "old-co", assignee: "cat" })).task;
    await t.api.tasks.archive({ id: gone.id });
    await rawSql(t.board()).run("UPDATE tasks SET tenant = '', assignee = '' WHERE title = 'gamma'");
    const view = await t.api.board.get();
    // Distinct, sorted, without empty values; an archived task still names its tenant, but an
    // assignee with nothing but archived tasks drops out.
    expect(view.tenants).toEqual(["acme", "old-co", "zeta"]);
    expect(view.assignees).toEqual(["ann", "bob"]);
    // The dropdowns keep every choice while a filter is applied.
    expect(await t.api.board.get({ tenant: "acme" })).toMatchObject({
      tenants: ["acme", "old-co", "zeta"],
      assignees: ["ann", "bob"],
    });
    expect(view.latest_event_id).toBe(await t.board().latestEventId());
  });

  it("opens a named board, refusing unknown (404) and malformed (400) slugs", async () => {
    await t.api.boards.create({ slug: "ops" });
    await t.api.tasks.create({ title: "on ops", board: "ops" });
    expect((await t.api.board.get({ board: "OPS" })).board).toBe("ops");
    expect(column(await t.api.board.get({ board: "ops" }), "ready").tasks.map((x) => x.title)).toEqual(["on ops"]);
    expect(column(await t.api.board.get({ board: "default" }), "ready").tasks).toEqual([]);
    await expect(t.api.board.get({ board: "nope" })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(t.api.board.get({ board: "-bad" })).rejects.toMatchObject({ code: "BAD_REQUEST" });
  });
});

describe("board.get statements", () => {
  it("runs the same number of statements for 10 tasks as for 300 (no N+1)", async () => {
    const small = t.board();
    await seedBoard(small, 10);
    await t.api.boards.create({ slug: "big" });
    const big = t.board("big");
    await seedBoard(big, 300);
    // Warm both (first use prepares and caches statements), then count a second call of each.
    await t.api.board.get();
    await t.api.board.get({ board: "big" });
    // Statements on either board count, as a view that also read another board would.
    const counters = [countStatements(small), countStatements(big)];
    const counted = async <T>(view: () => Promise<T>): Promise<[T, number]> => {
      for (const c of counters) c.reset();
      const result = await view();
      return [result, counters.reduce((sum, c) => sum + c.count, 0)];
    };
    const [smallView, smallCount] = await counted(() => t.api.board.get());
    const [bigView, bigCount] = await counted(() => t.api.board.get({ board: "big" }));
    expect(smallView.columns.reduce((s, c) => s + c.total, 0)).toBe(10);
    expect(bigView.columns.reduce((s, c) => s + c.total, 0)).toBe(300);
    expect(column(bigView, "running").tasks.length).toBeGreaterThan(10);
    expect(smallCount).toBeGreaterThan(0);
    expect(bigCount).toBe(smallCount);
    // One page per column, counts, extras, diagnostics, filters, and the spent budgets the motion holds by.
    expect(bigCount).toBeLessThanOrEqual(25);
  });
});
