import { type BoardChange, createCaller, createContextInner, LiveHub } from "@kanban/api";
import { makeTempDir } from "@kanban/db/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { applyBoardDelta, applyDeltaToPage, compareInColumn } from "./board-delta.ts";
import type { BoardData, BoardDelta, Card } from "./types.ts";

// The delta protocol's promise, checked against the real API in process: a board that applies
// every `board.changes` message ends up as the board a reload reads.

let home: { dir: string; cleanup: () => void };
let live: LiveHub;
let ac: AbortController;
beforeEach(() => {
  home = makeTempDir("kanban-web-delta-");
  live = new LiveHub({ intervalMs: 20 });
  ac = new AbortController();
});
afterEach(() => {
  ac.abort();
  live.close();
  home.cleanup();
});

function api(tenant: string | null = null) {
  return createCaller(createContextInner({ location: { home: home.dir }, live, tenant }), { signal: ac.signal });
}

/**
 * A card without what changes with the clock alone: its age, and the spans in its motion line
 * ("Blocked, since 1s ago"), both computed from `now`, which moves between the delta and the reload.
 */
function comparable(board: BoardData) {
  const timeless = (line: string) => line.replace(/\b\d+(\.\d+)?\s?(ms|s|m|min|h|d)\b/g, "<span>");
  return board.columns.map((c) => ({
    name: c.name,
    total: c.total,
    tasks: c.tasks.map(({ age: _age, ...rest }) =>
      rest.motion ? { ...rest, motion: { ...rest.motion, line: timeless(rest.motion.line) } } : rest,
    ),
  }));
}

async function until(check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("applyBoardDelta against the real API", () => {
  it("a board kept by deltas through creates, moves, links, blocks, completions, archives and deletes equals a reload", async () => {
    const a = api();
    const input = { include_archived: true } as const;
    const first = (await a.tasks.create({ title: "first", priority: 1 })).task;
    let board = (await a.board.get(input)) as BoardData;
    const stream = (await a.board.changes({ ...input, after: board.latest_event_id })) as AsyncIterable<unknown>;
    let messages = 0;
    let deltas = 0;
    const reading = (async () => {
      for await (const item of stream) {
        const [id, change] = item as [string, BoardChange];
        messages++;
        if (change.delta === null) throw new Error("a small burst must come as a delta");
        deltas++;
        board = applyBoardDelta(board, change.delta, Number(id));
      }
    })().catch(() => {});

    const latest = async () => (await a.board.get(input)).latest_event_id;
    // Each step is applied before the next, so that each is a burst of its own.
    const step = async <T>(write: () => Promise<T>): Promise<T> => {
      const out = await write();
      const target = await latest();
      await until(() => board.latest_event_id >= target);
      return out;
    };
    const parent = (await step(() => a.tasks.create({ title: "parent", priority: 5 }))).task;
    const child = (await step(() => a.tasks.create({ title: "child", parents: [parent.id] }))).task;
    const sibling = (await step(() => a.tasks.create({ title: "sibling", parents: [parent.id] }))).task;
    const other = (await step(() => a.tasks.create({ title: "other", assignee: "coder" }))).task;
    await step(() => a.tasks.block({ id: other.id, reason: "waiting for a person" }));
    await step(() => a.comments.add({ task_id: first.id, body: "a comment" }));
    await step(() => a.tasks.complete({ id: parent.id, result: "done" })); // the children promote
    // The parent's progress moves with no event of its own: the delta brings the other end of the link.
    await step(() => a.tasks.complete({ id: sibling.id, result: "done" }));
    await step(() => a.tasks.patch({ id: first.id, priority: 9 }));
    await step(() => a.tasks.archive({ id: child.id }));
    const doomed = (await step(() => a.tasks.create({ title: "doomed" }))).task;
    await step(() => a.links.add({ parent_id: doomed.id, child_id: other.id }));
    await step(() => a.tasks.delete({ id: doomed.id }));

    const reloaded = (await a.board.get(input)) as BoardData;
    expect(comparable(board)).toEqual(comparable(reloaded));
    expect(board.attention).toEqual(reloaded.attention);
    expect(board.attention_total).toBe(reloaded.attention_total);
    expect(board.assignees).toEqual(reloaded.assignees);
    expect(deltas).toBe(messages);
    expect(messages).toBeGreaterThanOrEqual(13);
    ac.abort();
    await reading;
  });
});

describe("applyBoardDelta", () => {
  const card = (id: string, over: Partial<Card> = {}): Card =>
    ({ id, status: "done", priority: 0, created_at: 1, completed_at: 100, ...over }) as Card;
  const delta = (over: Partial<BoardDelta>): BoardDelta => ({
    cards: [],
    removed: [],
    totals: {},
    tenants: [],
    assignees: [],
    attention: [],
    attention_total: 0,
    now: 500,
    ...over,
  });
  const boardOf = (cards: Card[], next_cursor: string | null): BoardData =>
    ({
      board: "b",
      columns: [{ name: "done", tasks: cards, total: 10, next_cursor }],
      tenants: [],
      assignees: [],
      attention: [],
      attention_total: 0,
      latest_event_id: 5,
      now: 1,
    }) as unknown as BoardData;

  it("in a column held in part, admits a card only where the page reaches; the rest is the next page's", () => {
    const held = boardOf([card("c3", { completed_at: 300 }), card("c2", { completed_at: 200 })], "cursor");
    const out = applyBoardDelta(
      held,
      delta({
        cards: [
          { column: "done", card: card("new", { completed_at: 400 }) as BoardDelta["cards"][number]["card"] },
          { column: "done", card: card("old", { completed_at: 50 }) as BoardDelta["cards"][number]["card"] },
        ],
        totals: { done: 12 },
      }),
      9,
    );
    expect(out.columns[0]?.tasks.map((c) => c.id)).toEqual(["new", "c3", "c2"]);
    expect(out.columns[0]?.total).toBe(12);
    expect(out.latest_event_id).toBe(9);
    // A complete column takes both, in order.
    const whole = applyBoardDelta(
      boardOf([card("c3", { completed_at: 300 })], null),
      delta({
        cards: [{ column: "done", card: card("old", { completed_at: 50 }) as BoardDelta["cards"][number]["card"] }],
      }),
      9,
    );
    expect(whole.columns[0]?.tasks.map((c) => c.id)).toEqual(["c3", "old"]);
  });

  it("orders active columns by priority then age, and finished ones newest first", () => {
    const active = [
      card("b", { priority: 1, created_at: 2 }),
      card("a", { priority: 1, created_at: 1 }),
      card("z", { priority: 3 }),
    ];
    expect(active.sort(compareInColumn("ready")).map((c) => c.id)).toEqual(["z", "a", "b"]);
    const done = [card("x", { completed_at: 1 }), card("y", { completed_at: 2 })];
    expect(done.sort(compareInColumn("done")).map((c) => c.id)).toEqual(["y", "x"]);
  });

  it("updates further pages in place and drops removed cards from them", () => {
    const page = { tasks: [card("p1"), card("p2"), card("p3")], next_cursor: null };
    const out = applyDeltaToPage(
      page,
      delta({ cards: [{ column: "ready", card: card("p2", { status: "ready" }) as never }], removed: ["p3"] }),
    );
    expect(out.tasks.map((c) => [c.id, c.status])).toEqual([
      ["p1", "done"],
      ["p2", "ready"],
    ]);
    expect(applyDeltaToPage(page, delta({ removed: ["elsewhere"] }))).toBe(page);
  });
});
