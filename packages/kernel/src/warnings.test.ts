import { describe, expect, it } from "vitest";
import type { Board } from "./board.ts";
import { SEVERITY_RANK, summariseDiagnostics, type TaskDiagnostics } from "./diagnostics.ts";
import { ATTENTION_LIMIT } from "./store/sqlite/board-reads.ts";
import { useTestBoards } from "./testing/helpers.ts";
import type { DiagnosticsPolicy } from "./warnings.ts";

// `warnings` has one meaning (issue 13): the summary of a task's diagnostics, keyed by diagnostic
// kind, null when there are none, the same for the same task in every read; and each read runs the
// diagnostics engine once, confined to the tasks it returns.

const HOUR = 3600;
const board = useTestBoards();

/** A board whose every run of the diagnostics engine is counted, with a policy a test can change. */
function countedBoard(policy: Partial<DiagnosticsPolicy> = {}) {
  const runs = { n: 0 };
  const live: Partial<DiagnosticsPolicy> = { ...policy };
  const b = board({
    failureLimit: () => live.failureLimit ?? 2,
    diagnosticsPolicy: () => live,
    onDiagnosticsRun: () => runs.n++,
  });
  return { b, runs, live };
}

/**
 * A refused completion (phantom card), a task blocked for two days, a ready task assigned to a
 * profile this host does not have (known profiles: `coder`), a failing task and a healthy one.
 */
async function seed(b: Board & { clock: { advance(s: number): void } }) {
  const phantom = await b.createTask({ title: "phantom", assignee: "coder" });
  await b.claimTask(phantom.id, { claimer: "host:1" });
  await expect(b.completeTask(phantom.id, { summary: "done", created_cards: ["t_deadbeef"] })).rejects.toThrow();
  const blocked = await b.createTask({ title: "blocked", assignee: "coder" });
  await b.blockTask(blocked.id, { reason: "which colour?" });
  const healthy = await b.createTask({ title: "healthy", assignee: "coder" });
  await b.claimTask(healthy.id, { claimer: "host:2" });
  const failing = await b.createTask({ title: "failing", assignee: "coder" });
  await b.claimTask(failing.id, { claimer: "host:3" });
  await b.recordTaskFailure(failing.id, { outcome: "spawn_failed", error: "no such command" });
  await b.claimTask(failing.id, { claimer: "host:3" });
  await b.recordTaskFailure(failing.id, { outcome: "spawn_failed", error: "no such command" });
  b.clock.advance(48 * HOUR);
  const stranger = await b.createTask({ title: "stranger", assignee: "ghost" });
  return { phantom: phantom.id, blocked: blocked.id, healthy: healthy.id, failing: failing.id, stranger: stranger.id };
}

/**
 * The strip's row for a flagged task, worked out here on its own: its worst diagnostic (highest
 * severity, then newest), how many it has and when the newest was seen.
 */
function expectedRow(f: TaskDiagnostics) {
  const worst = [...f.diagnostics].sort(
    (a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || b.last_seen_at - a.last_seen_at,
  )[0];
  return {
    task_id: f.task_id,
    title: f.task_title,
    status: f.task_status,
    assignee: f.task_assignee,
    severity: worst?.severity,
    reason: worst?.title,
    count: f.diagnostics.length,
    latest_at: Math.max(...f.diagnostics.map((d) => d.last_seen_at)),
  };
}

async function card(b: Board, id: string) {
  const view = await b.boardView("default", {}, { doneLimit: 100, columnLimit: 100, scopeTenant: null });
  return view.columns.flatMap((c) => c.tasks).find((t) => t.id === id);
}

describe("warnings: one meaning", () => {
  it("is the summary of the task's diagnostics, keyed by diagnostic kind, the same in every read", async () => {
    const { b } = countedBoard({ knownProfiles: ["coder"] });
    const ids = await seed(b);
    const expected = new Map((await b.diagnostics()).map((d) => [d.task_id, summariseDiagnostics(d.diagnostics)]));
    expect([...expected.keys()].sort()).toEqual([ids.blocked, ids.failing, ids.phantom, ids.stranger].sort());
    // Keyed by what the diagnostics found, not by the events behind them.
    expect(expected.get(ids.phantom)?.kinds).toEqual({ hallucinated_cards: 1 });
    expect(expected.get(ids.blocked)).toMatchObject({ kinds: { stuck_in_blocked: 1 }, highest_severity: "warning" });
    expect(expected.get(ids.stranger)).toMatchObject({ kinds: { stranded_in_ready: 1 }, highest_severity: "error" });
    expect(expected.get(ids.failing)?.kinds).toMatchObject({ repeated_failures: 1 });

    const listed = new Map((await b.listTasks({})).map((t) => [t.id, t.warnings]));
    const paged = new Map((await b.taskPage({}, { limit: 50 })).tasks.map((t) => [t.id, t.warnings]));
    const all = await b.warnings();
    for (const id of Object.values(ids)) {
      const want = expected.get(id) ?? null;
      expect((await b.getTask(id))?.warnings, id).toEqual(want);
      expect((await b.requireTask(id)).warnings, id).toEqual(want);
      expect(listed.get(id), id).toEqual(want);
      expect(paged.get(id), id).toEqual(want);
      expect((await b.warnings([id])).get(id) ?? null, id).toEqual(want);
      expect(all.get(id) ?? null, id).toEqual(want);
      expect((await card(b, id))?.warnings, id).toEqual(want);
    }
    expect((await b.getTask(ids.healthy))?.warnings).toBeNull();
  });

  it("clears once a clean completion supersedes a refused one", async () => {
    const { b } = countedBoard();
    const t = await b.createTask({ title: "x", assignee: "coder" });
    const claimed = await b.claimTask(t.id, { claimer: "host:1" });
    await expect(b.completeTask(t.id, { summary: "s", created_cards: ["t_deadbeef"] })).rejects.toThrow();
    expect((await b.getTask(t.id))?.warnings).toMatchObject({ count: 1, kinds: { hallucinated_cards: 1 } });
    await b.completeTask(t.id, { summary: "s", expected_run_id: claimed?.current_run_id });
    expect((await b.getTask(t.id))?.warnings).toBeNull();
  });

  it("a create returns the warnings a later read gives (a ready task for a profile this host lacks)", async () => {
    const { b } = countedBoard({ knownProfiles: ["coder"] });
    const created = await b.createTask({ title: "x", assignee: "ghost" });
    expect(created.warnings).toMatchObject({ kinds: { stranded_in_ready: 1 } });
    expect(created).toEqual(await b.getTask(created.id));
    const again = await b.createTask({ title: "x", assignee: "ghost", idempotency_key: "k" });
    expect(await b.createTask({ title: "x", assignee: "ghost", idempotency_key: "k" })).toEqual(again);
    expect(again.warnings).toEqual((await b.warnings([again.id])).get(again.id));
  });

  it("judges a new task from its row: the same warnings a read gives, without running the engine", async () => {
    const { b, runs } = countedBoard({ knownProfiles: ["coder"] });
    const parent = await b.createTask({ title: "parent", assignee: "coder" });
    const created = [
      await b.createTask({ title: "stranger", assignee: "ghost" }),
      await b.createTask({ title: "known", assignee: "coder" }),
      await b.createTask({ title: "nobody" }),
      await b.createTask({ title: "waits for its parent", assignee: "ghost", parents: [parent.id] }),
    ];
    expect(runs.n).toBe(0);
    expect(created.map((t) => t.warnings?.kinds ?? null)).toEqual([{ stranded_in_ready: 1 }, null, null, null]);
    for (const t of created) expect(t).toEqual(await b.getTask(t.id));
  });

  it("follows the board's live policy (a failure limit raised in config clears the badge)", async () => {
    const { b, live } = countedBoard({ failureLimit: 2 });
    const t = await b.createTask({ title: "x", assignee: "coder" });
    for (let i = 0; i < 2; i++) {
      await b.claimTask(t.id, { claimer: "host:1" });
      await b.recordTaskFailure(t.id, { outcome: "crashed", error: "boom" });
    }
    expect((await b.getTask(t.id))?.warnings?.kinds).toMatchObject({ repeated_failures: 1 });
    live.failureLimit = 5;
    expect((await b.getTask(t.id))?.warnings?.kinds ?? {}).not.toHaveProperty("repeated_failures");
  });
});

describe("warnings: what it costs", () => {
  it("a read runs the engine once, whatever the number of tasks it returns", async () => {
    const { b, runs } = countedBoard({ knownProfiles: ["coder"] });
    await seed(b);
    // Enough cards that one engine run per card would show (on a loaded CI's PostgreSQL, 250 creates
    // alone took over 20 s).
    for (let i = 0; i < 60; i++) await b.createTask({ title: `t${i}`, assignee: i % 2 ? "coder" : "ghost" });
    const one = (await b.createTask({ title: "one", assignee: "ghost" })).id;
    for (const read of [
      async () => await b.listTasks({}),
      async () => await b.listTasks({ limit: 20 }),
      async () => await b.taskPage({}, { limit: 100 }),
      async () => await b.getTask(one),
      async () => await b.requireTask(one),
      async () => await b.warnings(),
    ]) {
      const before = runs.n;
      await read();
      expect(runs.n - before).toBe(1);
    }
  });

  it("confined to an id set, judges exactly as a board-wide run does, and reports only those ids", async () => {
    const { b } = countedBoard({ knownProfiles: ["coder"] });
    const ids = await seed(b);
    const whole = await b.warnings();
    const some = [ids.blocked, ids.healthy, ids.stranger];
    const confined = await b.warnings(some);
    expect([...confined.keys()].sort()).toEqual([ids.blocked, ids.stranger].sort());
    for (const id of some) expect(confined.get(id)).toEqual(whole.get(id));
    expect(await b.warnings([])).toEqual(new Map());
  });

  it("leaves archived tasks unflagged, as the board does", async () => {
    const { b } = countedBoard();
    const t = await b.createTask({ title: "x" });
    await b.blockTask(t.id, { reason: "r" });
    b.clock.advance(48 * HOUR);
    expect((await b.getTask(t.id))?.warnings).not.toBeNull();
    await b.archiveTask(t.id);
    expect((await b.getTask(t.id))?.warnings).toBeNull();
  });
});

describe("one board refresh runs the diagnostics once", () => {
  it("board view: one run badges every card and gives the attention rows (diagnostics()' order, compact)", async () => {
    const { b, runs } = countedBoard({ knownProfiles: ["coder"] });
    const ids = await seed(b);
    const before = runs.n;
    const view = await b.boardView("default", {}, { doneLimit: 100, columnLimit: 100, scopeTenant: null });
    expect(runs.n - before).toBe(1);
    const all = await b.diagnostics();
    expect(view.attention).toEqual(all.map(expectedRow));
    expect(view.attention_total).toBe(all.length);
    expect(view.attention.map((a) => a.task_id)).toContain(ids.phantom);
    // Worst first: the failing task's error ranks above the blocked task's warning.
    const order = view.attention.map((a) => a.task_id);
    expect(order.indexOf(ids.failing)).toBeLessThan(order.indexOf(ids.blocked));
    // Compact: what the strip shows, none of the diagnostics' actions, details or payloads.
    for (const row of view.attention) {
      expect(Object.keys(row).sort()).toEqual(
        ["assignee", "count", "latest_at", "reason", "severity", "status", "task_id", "title"].sort(),
      );
    }
    const cards = view.columns.flatMap((c) => c.tasks);
    for (const flagged of all) {
      const c = cards.find((x) => x.id === flagged.task_id);
      expect(c?.diagnostics).toEqual(flagged.diagnostics);
      expect(c?.warnings).toEqual(summariseDiagnostics(flagged.diagnostics));
    }
  });

  it(`lists at most ${ATTENTION_LIMIT} attention rows, the worst, and counts every flagged task`, async () => {
    const { b, runs } = countedBoard({ knownProfiles: ["coder"] });
    const ids = await seed(b);
    // 130 more flagged at once (ready for a profile this host lacks), created a second apart so
    // "newest first" orders them, plus 20 healthy tasks that must not count.
    const ghosts: string[] = [];
    for (let i = 0; i < 130; i++) {
      b.clock.advance(1);
      ghosts.push((await b.createTask({ title: `ghost ${i}`, assignee: "ghost" })).id);
    }
    for (let i = 0; i < 20; i++) await b.createTask({ title: `fine ${i}`, assignee: "coder" });
    const before = runs.n;
    const view = await b.boardView("default", {}, { doneLimit: 100, columnLimit: 100, scopeTenant: null });
    expect(runs.n - before).toBe(1);
    const all = await b.diagnostics();
    expect(all.length).toBe(4 + 130);
    expect(view.attention_total).toBe(all.length);
    expect(view.attention).toHaveLength(ATTENTION_LIMIT);
    expect(view.attention).toEqual(all.slice(0, ATTENTION_LIMIT).map(expectedRow));
    // Errors first, newest first among them: the newest ghost leads; the blocked task's warning is
    // past the cut, and so are the 33 older errors (30 ghosts, the stranger, phantom and failing).
    expect(view.attention[0]?.task_id).toBe(ghosts[ghosts.length - 1]);
    const shown = new Set(view.attention.map((a) => a.task_id));
    expect(shown.has(ids.blocked)).toBe(false);
    expect(shown.has(ghosts[0] as string)).toBe(false);
    expect(shown.has(ghosts[30] as string)).toBe(true);
    expect(shown.has(ids.stranger)).toBe(false);
    // Every card still carries its own diagnostics in full.
    const cards = view.columns.flatMap((c) => c.tasks);
    expect(cards.find((c) => c.id === ids.blocked)?.warnings).toMatchObject({ kinds: { stuck_in_blocked: 1 } });
    // 150 creates, one statement round trip after another: on a loaded CI's PostgreSQL they alone
    // passed the default 20 s.
  }, 120_000);

  it("a further column page runs the engine once, for its own cards only", async () => {
    const { b, runs } = countedBoard();
    const blocked: string[] = [];
    for (let i = 0; i < 6; i++) {
      const t = await b.createTask({ title: `b${i}` });
      await b.blockTask(t.id, { reason: "r" });
      blocked.push(t.id);
    }
    b.clock.advance(48 * HOUR);
    const first = await b.boardView("default", {}, { doneLimit: 100, columnLimit: 2, scopeTenant: null });
    const col = first.columns.find((c) => c.name === "blocked");
    expect(col?.tasks).toHaveLength(2);
    const before = runs.n;
    const page = await b.columnPage("blocked", {}, { cursor: col?.next_cursor, limit: 2 });
    expect(runs.n - before).toBe(1);
    expect(page.tasks).toHaveLength(2);
    for (const c of page.tasks) expect(c.warnings).toMatchObject({ kinds: { stuck_in_blocked: 1 } });
  });

  it("a tenant-scoped view's attention list holds only that tenant's tasks", async () => {
    const { b } = countedBoard();
    const mine = await b.createTask({ title: "mine", tenant: "acme" });
    const theirs = await b.createTask({ title: "theirs", tenant: "globex" });
    await b.blockTask(mine.id, { reason: "r" });
    await b.blockTask(theirs.id, { reason: "r" });
    b.clock.advance(48 * HOUR);
    const view = await b.boardView(
      "default",
      { tenant: "acme" },
      { doneLimit: 100, columnLimit: 100, scopeTenant: "acme" },
    );
    expect(view.attention.map((a) => a.task_id)).toEqual([mine.id]);
    expect(view.attention_total).toBe(1);
  });
});
