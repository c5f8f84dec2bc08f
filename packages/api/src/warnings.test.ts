import { ATTENTION_LIMIT } from "@kanban/kernel";
import { TestClock } from "@kanban/kernel/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import path from "node:path";
import { createContextInner } from "./context.ts";
import { LiveHub } from "./live/hub.ts";
import { BoardRegistry } from "./registry.ts";
import { createCaller } from "./root.ts";
import { captureLogger, createTestApi, type TestApi } from "./testing.ts";

// `warnings` means one thing in every answer (issue 13): the summary of the task's diagnostics that
// its board card shows, judged against config.json as it is now.

const HOUR = 3600;
let t: TestApi;
beforeEach(() => {
  t = createTestApi({ config: { profiles: { coder: { command: ["true"] } } } });
});
afterEach(() => t.cleanup());

type Warned = { id: string; warnings: unknown };
const cardOf = (view: { columns: { tasks: Warned[] }[] }, id: string) =>
  view.columns.flatMap((c) => c.tasks).find((c) => c.id === id);

type Flagged = Awaited<ReturnType<TestApi["api"]["diagnostics"]["list"]>>["diagnostics"][number];
const RANK = { warning: 1, error: 2, critical: 3 } as const;
/** The attention row of a flagged task as diagnostics.list gives it: its worst diagnostic, counted. */
function rowOf(f: Flagged) {
  const worst = [...f.diagnostics].sort(
    (a, b) => RANK[b.severity] - RANK[a.severity] || b.last_seen_at - a.last_seen_at,
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

describe("warnings over the API", () => {
  it("tasks.get, tasks.list and board.get give the same warnings for the same task", async () => {
    // A ready task for a profile this host does not have, and one blocked for two days.
    const ghost = (await t.api.tasks.create({ title: "ghost", assignee: "nobody" })).task;
    const stuck = (await t.api.tasks.create({ title: "stuck", assignee: "coder" })).task;
    await t.api.tasks.patch({ id: stuck.id, status: "blocked", block_reason: "which colour?" });
    t.clock.advance(48 * HOUR);
    const fine = (await t.api.tasks.create({ title: "fine", assignee: "coder" })).task;

    const board = await t.api.board.get();
    const listed = (await t.api.tasks.list({})).tasks;
    for (const [id, kind] of [
      [ghost.id, "stranded_in_ready"],
      [stuck.id, "stuck_in_blocked"],
    ] as const) {
      const card = cardOf(board, id);
      expect(card?.warnings, id).toMatchObject({ count: 1, kinds: { [kind]: 1 } });
      expect(listed.find((x) => x.id === id)?.warnings, id).toEqual(card?.warnings);
      expect((await t.api.tasks.get({ id })).task.warnings, id).toEqual(card?.warnings);
    }
    expect(listed.find((x) => x.id === fine.id)?.warnings).toBeNull();
    expect(cardOf(board, fine.id)?.warnings).toBeNull();
  });

  it("follows a config.json edit at once in every read (the profile now exists: no badge anywhere)", async () => {
    const ghost = (await t.api.tasks.create({ title: "ghost", assignee: "nobody" })).task;
    expect((await t.api.tasks.list({})).tasks[0]?.warnings).not.toBeNull();
    t.writeConfig({ profiles: { coder: { command: ["true"] }, nobody: { command: ["true"] } } });
    expect((await t.api.tasks.list({})).tasks[0]?.warnings).toBeNull();
    expect((await t.api.tasks.get({ id: ghost.id })).task.warnings).toBeNull();
    expect(cardOf(await t.api.board.get(), ghost.id)?.warnings).toBeNull();
  });

  it("board.get carries the attention rows of what diagnostics.list answers, compact (the board needs no second call)", async () => {
    const ghost = (await t.api.tasks.create({ title: "ghost", assignee: "nobody" })).task;
    const stuck = (await t.api.tasks.create({ title: "stuck", assignee: "coder" })).task;
    await t.api.tasks.patch({ id: stuck.id, status: "blocked", block_reason: "?" });
    t.clock.advance(48 * HOUR);
    const board = await t.api.board.get({ search: "no match at all" });
    const listed = await t.api.diagnostics.list({});
    expect(board.attention).toHaveLength(2);
    expect(board.attention_total).toBe(listed.count);
    expect(board.attention).toEqual(listed.diagnostics.map(rowOf));
    // The ghost's error ranks above the blocked task's warning; its reason is the diagnostic's title.
    expect(board.attention[0]).toMatchObject({ task_id: ghost.id, severity: "error", assignee: "nobody", count: 1 });
    expect(board.attention[0]?.reason).toMatch(/not a profile on this host/);
    expect(board.attention[0]).not.toHaveProperty("diagnostics");
  });

  it(`board.get lists the ${ATTENTION_LIMIT} worst flagged tasks and counts them all`, async () => {
    const ghosts: string[] = [];
    for (let i = 0; i < ATTENTION_LIMIT + 5; i++) {
      t.clock.advance(1);
      ghosts.push((await t.api.tasks.create({ title: `ghost ${i}`, assignee: "nobody" })).task.id);
    }
    await t.api.tasks.create({ title: "fine", assignee: "coder" });
    const board = await t.api.board.get();
    const listed = await t.api.diagnostics.list({});
    expect(listed.count).toBe(ATTENTION_LIMIT + 5);
    expect(board.attention_total).toBe(listed.count);
    expect(board.attention).toHaveLength(ATTENTION_LIMIT);
    expect(board.attention).toEqual(listed.diagnostics.slice(0, ATTENTION_LIMIT).map(rowOf));
    // Newest first among equals: the five oldest are the ones past the cut.
    expect(board.attention.map((a) => a.task_id)).toEqual(ghosts.slice(5).reverse());
  });

  it("a tenant's board lists only its own tasks as needing attention", async () => {
    t.writeConfig({ tenant_tokens: { "a-long-enough-token-for-acme": "acme" } });
    const mine = (await t.api.tasks.create({ title: "mine", assignee: "nobody", tenant: "acme" })).task;
    await t.api.tasks.create({ title: "theirs", assignee: "nobody", tenant: "globex" });
    const board = await t.caller("acme").board.get();
    expect(board.attention.map((a) => a.task_id)).toEqual([mine.id]);
    expect(board.attention_total).toBe(1);
  });
});

describe("one board refresh runs the diagnostics once", () => {
  it("board.get, then a further column page: one engine run each, the page's confined to its cards", async () => {
    const runs = { n: 0 };
    const boards = new BoardRegistry({
      location: t.location,
      clock: new TestClock(),
      warn: () => {},
      hermesHome: path.join(t.dir, "hermes"),
      onDiagnosticsRun: () => runs.n++,
    });
    const live = new LiveHub({ logger: captureLogger(), intervalMs: 50 });
    try {
      const api = createCaller(
        createContextInner({
          location: t.location,
          tenant: null,
          boards,
          live,
          logger: captureLogger(),
          terminate: () => {},
          hermesHome: path.join(t.dir, "hermes"),
        }),
      );
      for (let i = 0; i < 5; i++) await api.tasks.create({ title: `t${i}`, assignee: "nobody" });
      runs.n = 0;
      const view = await api.board.get({ column_limit: 2 });
      expect(runs.n).toBe(1);
      const ready = view.columns.find((c) => c.name === "ready");
      expect(ready?.next_cursor).not.toBeNull();
      runs.n = 0;
      const page = await api.board.column({ column: "ready", cursor: ready?.next_cursor, limit: 2 });
      expect(runs.n).toBe(1);
      for (const c of page.tasks) expect(c.warnings).toMatchObject({ kinds: { stranded_in_ready: 1 } });
      runs.n = 0;
      await api.tasks.list({});
      expect(runs.n).toBe(1);
    } finally {
      live.close();
      await boards.close();
    }
  });
});
