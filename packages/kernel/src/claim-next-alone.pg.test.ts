// PostgreSQL only: a claim walk asked for one claim, on a lane it has already read, is one message
// (claim-next.ts claimAlone, store/pg/folded-writes.ts claimFirstReadyAlone): BEGIN with the board's
// shared lock, one statement that locks the first free row of those judged startable and claims it,
// COMMIT. A row that needs something decided on the way is let go with nothing written, and the walk
// takes it the full way; each of those cases must end as the full way ends it.
import { afterEach, describe, expect, it, vi } from "vitest";
import { useTestBoards } from "./testing/helpers.ts";
import { onEveryMessage, watchMessages, isWriteAlone } from "./testing/pg-messages.ts";
import { boardInternals, rawSql, type TestBoard } from "./testing/index.ts";
import { holdWriterLock, recordTxModes } from "./testing/writer-spies.ts";
import { openIncidentElsewhere } from "./testing/open-incident.ts";
import { expectClaimedAlike } from "./testing/same-claim.ts";

const board = useTestBoards();

afterEach(() => {
  vi.restoreAllMocks();
});

async function seed(b: TestBoard, n: number, extra: { assignee?: string | null; requires?: string[] } = {}) {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await b.createTask({ title: `job ${i}`, assignee: "bench", ...extra })).id);
  return ids;
}

/** A lane already read: its first call (the full way) claimed `first`. */
async function laneAfterFirst(b: TestBoard, first: string, filter: Parameters<TestBoard["readyLane"]>[0] = {}) {
  const lane = b.readyLane(filter);
  expect((await b.claimNext(lane, { claimer: "w:1" })).claimed.map((c) => c.task_id)).toEqual([first]);
  return lane;
}

async function eventKinds(b: TestBoard, id: string): Promise<string[]> {
  const rows = await rawSql(b).all<{ kind: string }>("SELECT kind FROM task_events WHERE task_id = ? ORDER BY id", id);
  return rows.map((r) => r.kind);
}

describe("a claim walk for one claim, as one message", () => {
  it("claims the next row in one message, writing the task, run and event the full way writes", async () => {
    const b = board();
    const [a, c] = await seed(b, 2);
    const lane = await laneAfterFirst(b, a ?? "");
    const messages = watchMessages();
    const result = await b.claimNext(lane, { claimer: "w:1" });
    expect(messages.all()).toBe(1);
    expect(messages.alone()).toBe(1);
    expect(result).toMatchObject({ claimed: [{ task_id: c, assignee: "bench" }], skipped: [], more: false });
    await expectClaimedAlike(b, { full: a ?? "", alone: c ?? "" }, result.claimed[0]?.task, "w:1");
  });

  it("passes over, in the same message, a row another writer holds, and reports the rows it skipped once", async () => {
    const b = board();
    const [first] = await seed(b, 1);
    const [gpu] = await seed(b, 1, { requires: ["gpu"] });
    const [held, free] = await seed(b, 2);
    const lane = await laneAfterFirst(b, first ?? "");
    const { ctx } = boardInternals(b);
    // Another shared writer (a claim, a completion) holds `held`'s row.
    const lockRow = async () => await ctx.get("SELECT id FROM tasks WHERE id = ? FOR UPDATE", held);
    const release = await holdWriterLock(ctx, lockRow, { shared: true });
    const messages = watchMessages();
    // Let go whatever the assertions say: a transaction left open would hold the board's cleanup.
    let sent = 0;
    const result = await (async () => {
      try {
        return await b.claimNext(lane, { claimer: "w:1" });
      } finally {
        sent = messages.all();
        await release();
      }
    })();
    expect(sent).toBe(1);
    expect(result.claimed.map((c) => c.task_id)).toEqual([free]);
    expect(result.skipped).toEqual([{ task_id: gpu, reason: "labels", requires: ["gpu"], missing: ["gpu"] }]);
    // The row passed over is still ready, for a later walk.
    expect((await b.requireTask(held ?? "")).status).toBe("ready");
    expect((await b.claimNext(b.readyLane(), { claimer: "w:1" })).claimed.map((c) => c.task_id)).toEqual([held]);
  });

  it("a row with history for the respawn guard goes the full way, which holds it and records why", async () => {
    const b = board();
    const [first, guarded, next] = await seed(b, 3);
    await b.addComment(guarded ?? "", "someone", "working on it: https://github.com/acme/app/pull/12");
    const lane = await laneAfterFirst(b, first ?? "");
    const messages = watchMessages();
    const result = await b.claimNext(lane, { claimer: "w:1" });
    // The one message locked the guarded row, claimed nothing, and the full way took over.
    expect(messages.alone()).toBe(1);
    expect(messages.all()).toBeGreaterThan(1);
    expect(result.skipped).toMatchObject([{ task_id: guarded, reason: "respawn_guard", guard: "active_pr" }]);
    expect(result.claimed.map((c) => c.task_id)).toEqual([next]);
    expect(await eventKinds(b, guarded ?? "")).toEqual(["created", "commented", "respawn_guarded"]);
    expect(await rawSql(b).all("SELECT id FROM task_runs WHERE task_id = ?", guarded)).toEqual([]);
  });

  it("an unassigned row the walk gives its default assignee goes the full way: assigned, then claimed", async () => {
    const b = board();
    const [first] = await seed(b, 1);
    const [unassigned] = await seed(b, 1, { assignee: null });
    const lane = await laneAfterFirst(b, first ?? "", { defaultAssignee: "bench" });
    const result = await b.claimNext(lane, { claimer: "w:1" });
    expect(result).toMatchObject({
      claimed: [{ task_id: unassigned, assignee: "bench" }],
      assigned_default: [unassigned],
    });
    expect(await eventKinds(b, unassigned ?? "")).toEqual(["created", "assigned", "claimed"]);
  });

  it("a row whose parent is unfinished (written ready by hand) is refused the full way, with claim_rejected", async () => {
    const b = board();
    const [first, parent] = await seed(b, 2);
    const child = await b.createTask({ title: "child", assignee: "bench", parents: [parent ?? ""] });
    expect(await b.claimTask(parent ?? "", { claimer: "other:1" })).not.toBeNull();
    await rawSql(b).run("UPDATE tasks SET status = 'ready' WHERE id = ?", child.id);
    const lane = await laneAfterFirst(b, first ?? "");
    const messages = watchMessages();
    const result = await b.claimNext(lane, { claimer: "w:1" });
    expect(messages.alone()).toBe(1);
    expect(result.claimed).toEqual([]);
    expect((await eventKinds(b, child.id)).filter((k) => k === "claim_rejected")).toHaveLength(1);
    expect((await b.requireTask(child.id)).status).not.toBe("running");
    expect(await rawSql(b).all("SELECT id FROM task_runs WHERE task_id = ?", child.id)).toEqual([]);
  });

  it("an incident opened after the lane was read: nothing claimed in the message, the walk runs as the board's one writer", async () => {
    const b = board();
    const [first, second] = await seed(b, 2);
    const lane = await laneAfterFirst(b, first ?? "");
    const { ctx } = boardInternals(b);
    await openIncidentElsewhere(b);
    const modes = recordTxModes(ctx);
    const messages = watchMessages();
    expect((await b.claimNext(lane, { claimer: "w:1" })).claimed.map((c) => c.task_id)).toEqual([second]);
    expect(messages.alone()).toBe(1);
    expect(modes).toEqual(["shared", "exclusive"]);
    expect(await eventKinds(b, second ?? "")).toEqual(["created", "claimed"]);
  });

  it("a lane window with nothing startable is passed in the message's walk; the full way then reports only what follows", async () => {
    const b = board();
    const [first] = await seed(b, 1);
    // More rows than one re-check window (64), none of which this claimer may take.
    const gpu = await seed(b, 70, { requires: ["gpu"] });
    const [unassigned] = await seed(b, 1, { assignee: null });
    const lane = await laneAfterFirst(b, first ?? "", { defaultAssignee: "bench" });
    const result = await b.claimNext(lane, { claimer: "w:1" });
    expect(result.claimed.map((c) => c.task_id)).toEqual([unassigned]);
    expect(result.assigned_default).toEqual([unassigned]);
    // Each skipped row once, in lane order: those the first part passed and those the full way judged.
    expect(result.skipped.map((s) => s.task_id)).toEqual(gpu);
    expect(new Set(result.skipped.map((s) => s.reason))).toEqual(new Set(["labels"]));
  });

  it("re-checks nothing while its lock statements find free rows, however far the walk goes", async () => {
    const b = board();
    const [first, ...rest] = await seed(b, 70);
    const lane = await laneAfterFirst(b, first ?? "");
    const texts: string[] = [];
    onEveryMessage((text) => {
      if (!text.startsWith("PREPARE ")) texts.push(text);
    });
    // Past the end of what one re-check covers (64 rows): each claim is still its one message.
    for (const id of rest)
      expect((await b.claimNext(lane, { claimer: "w:1" })).claimed.map((c) => c.task_id)).toEqual([id]);
    expect(texts.filter(isWriteAlone)).toHaveLength(rest.length);
    expect(texts.filter((t) => t.includes("= ANY("))).toEqual([]);
  });

  it("after a lock statement finds every row it chose among taken, re-checks the rows ahead once and claims past them", async () => {
    const b = board();
    const [first, ...rest] = await seed(b, 80);
    const lane = await laneAfterFirst(b, first ?? "");
    // Another claimer takes the next 69 rows: more than one lock statement's rows and one re-check.
    const taken = rest.slice(0, 69);
    for (const id of taken) expect(await b.claimTask(id, { claimer: "other:1" })).not.toBeNull();
    const texts: string[] = [];
    onEveryMessage((text) => texts.push(text));
    const result = await b.claimNext(lane, { claimer: "w:1" });
    expect(result.claimed.map((c) => c.task_id)).toEqual([rest[69]]);
    expect(result.skipped).toEqual([]);
    // The first lock statement misses, one re-check passes the other 53 taken rows, the next claims.
    // Not counted: a connection's one-time PREPARE, and a live-event announcement that the other
    // claimer's commits owed, sent on its own timer (see watchMessages).
    const kinds = texts
      .filter((t) => !t.startsWith("PREPARE ") && !t.startsWith("SELECT pg_notify("))
      .map((t) => (t.includes("= ANY(") ? "recheck" : isWriteAlone(t) ? "claim" : t));
    expect(kinds, texts.join("\n---\n")).toEqual(["claim", "recheck", "claim"]);
    // And the walk goes on from there without another re-check.
    texts.length = 0;
    expect((await b.claimNext(lane, { claimer: "w:1" })).claimed.map((c) => c.task_id)).toEqual([rest[70]]);
    expect(texts.filter((t) => t.includes("= ANY("))).toEqual([]);
  });

  it("a lane others emptied meanwhile: the message finds no free row, and the walk says there is no more", async () => {
    const b = board();
    const [first, ...rest] = await seed(b, 4);
    const lane = await laneAfterFirst(b, first ?? "");
    for (const id of rest) expect(await b.claimTask(id, { claimer: "other:1" })).not.toBeNull();
    const result = await b.claimNext(lane, { claimer: "w:1" });
    expect(result).toEqual({ claimed: [], skipped: [], assigned_default: [], more: false });
    for (const id of rest) expect((await b.requireTask(id)).claim_lock).toBe("other:1");
  });
});
