import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { codeOf, createTestApi, type TestApi, waitFor } from "../testing.ts";
import { type BoardChange, touchedIds } from "./board-changes.ts";

let t: TestApi;
beforeEach(() => {
  t = createTestApi();
});
afterEach(() => t.cleanup());

type Caller = ReturnType<TestApi["caller"]>;

/** A viewer of `board.changes` in process: every message it received, until stop(). */
async function watch(tenant: string | null, input: Parameters<Caller["board"]["changes"]>[0]) {
  const ac = new AbortController();
  const stream = (await t.caller(tenant, ac.signal).board.changes(input)) as AsyncIterable<unknown>;
  const got: { id: string; change: BoardChange }[] = [];
  const done = (async () => {
    try {
      // In process the caller yields the tracked envelope itself: [id, data].
      for await (const item of stream) {
        const [id, change] = item as [string, BoardChange];
        got.push({ id, change });
      }
    } catch (err) {
      if (!ac.signal.aborted) throw err;
    }
  })();
  return {
    got,
    last: () => got.at(-1)?.change,
    stop: async () => {
      ac.abort();
      await done;
    },
  };
}

/** The error code a stream fails with when first read (a subscription checks its input as it starts). */
async function streamCode(stream: Promise<unknown>): Promise<string> {
  return await codeOf(
    (async () => {
      for await (const _ of (await stream) as AsyncIterable<unknown>) break;
    })(),
  );
}

const cardIds = (c: BoardChange | undefined) => c?.delta?.cards.map((x) => x.card.id) ?? [];

describe("board.changes", () => {
  it("sends each burst to every viewer as one delta, read once for all of them", async () => {
    const a = (await t.api.tasks.create({ title: "a" })).task;
    const b = (await t.api.tasks.create({ title: "b" })).task;
    const after = await t.board().latestEventId();
    const viewers = await Promise.all(Array.from({ length: 5 }, async () => await watch(null, { after })));
    const readsBefore = t.live.deltas.reads;
    await t.api.tasks.block({ id: a.id, reason: "needs a person" });
    await waitFor(() => viewers.every((v) => v.got.length >= 1));
    // Five viewers of the same view, one burst: one delta read.
    expect(t.live.deltas.reads - readsBefore).toBe(1);
    for (const v of viewers) {
      const change = v.last();
      expect(change?.events.map((e) => e.kind)).toEqual(["blocked"]);
      expect(change?.delta?.cards).toEqual([
        expect.objectContaining({ column: "blocked", card: expect.objectContaining({ id: a.id, status: "blocked" }) }),
      ]);
      expect(change?.delta?.removed).toEqual([]);
      expect(change?.delta?.totals).toMatchObject({ blocked: 1, done: 0 });
      expect(Number(v.got.at(-1)?.id)).toBe(change?.events.at(-1)?.id);
    }
    // The delta's card is the card board.get renders.
    const view = await t.api.board.get();
    const onBoard = view.columns.find((c) => c.name === "blocked")?.tasks.find((c) => c.id === a.id);
    const { age: _a, ...fromDelta } = viewers[0]?.last()?.delta?.cards[0]?.card ?? {};
    const { age: _b, ...fromView } = onBoard ?? {};
    expect(fromDelta).toEqual(fromView);
    expect(viewers[0]?.last()?.delta?.totals).toEqual(Object.fromEntries(view.columns.map((c) => [c.name, c.total])));
    expect(view.columns.flatMap((c) => c.tasks.map((x) => x.id)).sort()).toEqual([a.id, b.id].sort());
    for (const v of viewers) await v.stop();
  });

  it("tells open boards of a hard delete, and updates the other end of its links", async () => {
    const parent = (await t.api.tasks.create({ title: "parent" })).task;
    const child = (await t.api.tasks.create({ title: "child", parents: [parent.id] })).task;
    const v = await watch(null, { after: await t.board().latestEventId() });
    await t.api.tasks.delete({ id: parent.id });
    await waitFor(() => v.got.length >= 1);
    const change = v.last();
    expect(change?.events.map((e) => e.kind)).toContain("deleted");
    expect(change?.delta?.removed).toEqual([parent.id]);
    // The child lost its parent: its card comes with its new link counts.
    const childCard = change?.delta?.cards.find((c) => c.card.id === child.id)?.card;
    expect(childCard?.link_counts).toEqual({ parents: 0, children: 0 });
    expect(Object.values(change?.delta?.totals ?? {}).reduce((n, x) => n + x, 0)).toBe(1);
    await v.stop();
  });

  it("applies the view's filters: a card edited out of the view is removed, one edited in arrives", async () => {
    const mine = (await t.api.tasks.create({ title: "mine", assignee: "alice" })).task;
    const other = (await t.api.tasks.create({ title: "other", assignee: "bob" })).task;
    const v = await watch(null, { after: await t.board().latestEventId(), assignee: "alice" });
    await t.api.tasks.patch({ id: mine.id, assignee: "bob" });
    await waitFor(() => v.got.some((g) => g.change.delta?.removed.includes(mine.id)));
    await t.api.tasks.patch({ id: other.id, assignee: "alice" });
    await waitFor(() => cardIds(v.last()).includes(other.id));
    // Only alice's cards count in this view: now just the other one.
    expect(Object.values(v.last()?.delta?.totals ?? {}).reduce((n, x) => n + x, 0)).toBe(1);
    await v.stop();
  });

  it("search narrows the delta as it narrows the board", async () => {
    const v = await watch(null, { after: await t.board().latestEventId(), search: "needle" });
    await t.api.tasks.create({ title: "hay" });
    const needle = (await t.api.tasks.create({ title: "the needle" })).task;
    await waitFor(() => cardIds(v.last()).includes(needle.id));
    expect(v.got.flatMap((g) => cardIds(g.change))).toEqual([needle.id]);
    await v.stop();
  });

  it("a tenant's viewer sees only its own cards change, and never another tenant's ids", async () => {
    const acme = t.caller("acme");
    const zeta = t.caller("zeta");
    const after = await t.board().latestEventId();
    // Naming another tenant changes nothing: a tenant's view is confined to its own, as board.get is.
    const v = await watch("acme", { after, tenant: "zeta" });
    const theirs = (await zeta.tasks.create({ title: "zeta's" })).task;
    const mine = (await acme.tasks.create({ title: "acme's" })).task;
    await waitFor(() => cardIds(v.last()).includes(mine.id));
    const all = JSON.stringify(v.got);
    expect(all).not.toContain(theirs.id);
    expect(v.last()?.delta?.tenants).toEqual(["acme"]);
    await v.stop();
  });

  it("leaves out the view-wide lists when they are what the stream last sent", async () => {
    const a = (await t.api.tasks.create({ title: "a", assignee: "alice" })).task;
    const v = await watch(null, { after: await t.board().latestEventId() });
    await t.api.comments.add({ task_id: a.id, body: "one" });
    await waitFor(() => v.got.length >= 1);
    expect(v.got[0]?.change.delta).toMatchObject({ assignees: ["alice"], tenants: [] });
    expect(Array.isArray(v.got[0]?.change.delta?.attention)).toBe(true);
    await t.api.comments.add({ task_id: a.id, body: "two" });
    await waitFor(() => v.got.length >= 2);
    expect(v.got[1]?.change.delta).toMatchObject({ assignees: null, tenants: null, attention: null });
    // A new assignee changes the list: it is sent again, whole.
    await t.api.tasks.patch({ id: a.id, assignee: "bob" });
    await waitFor(() => v.got.length >= 3);
    expect(v.got[2]?.change.delta).toMatchObject({ assignees: ["bob"], tenants: null });
    await v.stop();
  });

  it("resumes after lastEventId and refuses a malformed one", async () => {
    const a = (await t.api.tasks.create({ title: "a" })).task;
    const from = await t.board().latestEventId();
    await t.api.comments.add({ task_id: a.id, body: "while away" });
    const v = await watch(null, { after: 0, lastEventId: String(from) });
    await waitFor(() => v.got.length >= 1);
    expect(v.got[0]?.change.events.map((e) => e.kind)).toEqual(["commented"]);
    expect(v.got[0]?.change.delta?.cards[0]?.card.comment_count).toBe(1);
    await v.stop();
    expect(await streamCode(t.api.board.changes({ lastEventId: "x1" }))).toBe("BAD_REQUEST");
    expect(await streamCode(t.api.board.changes({ board: "gone" }))).toBe("NOT_FOUND");
  });
});

describe("touchedIds", () => {
  const ev = (task_id: string, kind: string, payload: Record<string, unknown> | null = null) => ({
    id: 1,
    task_id,
    run_id: null,
    kind,
    payload,
    created_at: 0,
  });
  it("names each event's card, both ends of a link, and a deleted card's neighbours", () => {
    expect(
      touchedIds([
        ev("a", "blocked"),
        ev("b", "linked", { parent: "p", child: "b" }),
        ev("d", "deleted", { tenant: null, linked: ["n1", "n2"] }),
        ev("a", "commented"),
      ]),
    ).toEqual(["a", "b", "p", "d", "n1", "n2"]);
  });
});
