import { describe, expect, it } from "vitest";
import type { NotifySubKey } from "./notify.ts";
import { rawSql, type TestBoard } from "./testing/index.ts";
import { openTestBoardAgain } from "./testing/test-board.ts";
import { kernelError, useTestBoards } from "./testing/helpers.ts";

// Spec §2.14 (kanban_db_notify), §1.3 kanban_notify_subs, §7.1 (inheritance), §7.2 (claim/rewind);
// Hermes tests: test_kanban_core_functionality.py (notify CRUD, cursor, single-owner claim),
// test_kanban_notify.py and tests/gateway/test_kanban_notifier.py (their kernel parts).

const board = useTestBoards();
const maxEventId = async (b: TestBoard, taskId: string): Promise<number> =>
  (await rawSql(b).get<{ m: number }>("SELECT COALESCE(MAX(id), 0) AS m FROM task_events WHERE task_id = ?", taskId))
    ?.m ?? Number.NaN;
const subCount = async (b: TestBoard) =>
  (await rawSql(b).get<{ n: number }>("SELECT count(*) AS n FROM kanban_notify_subs"))?.n;

/** A task with a telegram subscription, and the subscription's key. */
async function subscribed(
  b: TestBoard,
  extra: Record<string, unknown> = {},
): Promise<{ id: string; key: NotifySubKey }> {
  const t = await b.createTask({ title: "watched", assignee: "alice" });
  const key = { task_id: t.id, platform: "telegram", chat_id: "chat-1" };
  await b.addNotifySub({ ...key, ...extra });
  return { id: t.id, key };
}

describe("notify: subscriptions", () => {
  it("notify: add creates one row with Hermes' defaults", async () => {
    const b = board();
    const t = await b.createTask({ title: "x" });
    const sub = await b.addNotifySub({ task_id: t.id, platform: "telegram", chat_id: "42", user_id: "u1" });
    expect(sub).toEqual({
      task_id: t.id,
      platform: "telegram",
      chat_id: "42",
      thread_id: "",
      user_id: "u1",
      user_id_alt: null,
      chat_type: "dm",
      notifier_profile: null,
      delivery_mode: "notify",
      delivery_metadata: null,
      created_at: b.clock.seconds,
      last_event_id: await maxEventId(b, t.id),
    });
    expect(await b.listNotifySubs(t.id)).toEqual([sub]);
  });

  it("notify: add is idempotent on (task, platform, chat, thread); a null thread is ''", async () => {
    const b = board();
    const t = await b.createTask({ title: "x" });
    await b.addNotifySub({ task_id: t.id, platform: "telegram", chat_id: "42" });
    await b.addNotifySub({ task_id: t.id, platform: "telegram", chat_id: "42", thread_id: null });
    await b.addNotifySub({ task_id: t.id, platform: "telegram", chat_id: "42", thread_id: "" });
    expect(await subCount(b)).toBe(1);
    await b.addNotifySub({ task_id: t.id, platform: "telegram", chat_id: "42", thread_id: "topic-7" });
    await b.addNotifySub({ task_id: t.id, platform: "discord", chat_id: "42" });
    expect(await subCount(b)).toBe(3);
  });

  it("notify: a new subscription starts caught up at the task's newest event (B fix)", async () => {
    const b = board();
    const t = await b.createTask({ title: "x" });
    await b.claimTask(t.id);
    await b.heartbeatWorker(t.id, { note: "busy" });
    const sub = await b.addNotifySub({ task_id: t.id, platform: "telegram", chat_id: "42" });
    expect(sub.last_event_id).toBe(await maxEventId(b, t.id));
    expect(sub.last_event_id).toBeGreaterThan(0);
    expect((await b.unseenEventsForSub(sub)).events).toEqual([]);
  });

  it("notify: re-adding an existing subscription does not move its cursor", async () => {
    const b = board();
    const { id, key } = await subscribed(b);
    const before = (await b.listNotifySubs(id))[0]?.last_event_id;
    await b.addComment(id, "bob", "news");
    expect((await b.addNotifySub(key)).last_event_id).toBe(before);
    expect((await b.unseenEventsForSub(key)).events.map((e) => e.kind)).toEqual(["commented"]);
  });

  it("notify: api_server subscriptions default to notify+wake; an explicit mode wins", async () => {
    const b = board();
    const t = await b.createTask({ title: "x" });
    expect((await b.addNotifySub({ task_id: t.id, platform: "api_server", chat_id: "s1" })).delivery_mode).toBe(
      "notify+wake",
    );
    expect(
      (await b.addNotifySub({ task_id: t.id, platform: "api_server", chat_id: "s2", delivery_mode: "wake" }))
        .delivery_mode,
    ).toBe("wake");
    expect(
      (await b.addNotifySub({ task_id: t.id, platform: "slack", chat_id: "c", delivery_mode: "notify+wake" }))
        .delivery_mode,
    ).toBe("notify+wake");
  });

  it("notify: on an existing row chat_type, delivery_mode and metadata are last-write-wins when given", async () => {
    const b = board();
    const { key } = await subscribed(b, { chat_type: "group", delivery_mode: "notify" });
    const updated = await b.addNotifySub({ ...key, chat_type: "thread", delivery_mode: "wake" });
    expect([updated.chat_type, updated.delivery_mode]).toEqual(["thread", "wake"]);
    // Not given: kept.
    const kept = await b.addNotifySub(key);
    expect([kept.chat_type, kept.delivery_mode]).toEqual(["thread", "wake"]);
  });

  it("notify: on an existing row user_id, user_id_alt and notifier_profile only fill blanks", async () => {
    const b = board();
    const { key } = await subscribed(b, { user_id: "first-user" });
    const filled = await b.addNotifySub({
      ...key,
      user_id: "second-user",
      user_id_alt: "uuid-1",
      notifier_profile: "alice",
    });
    expect([filled.user_id, filled.user_id_alt, filled.notifier_profile]).toEqual(["first-user", "uuid-1", "alice"]);
    const again = await b.addNotifySub({ ...key, user_id_alt: "uuid-2", notifier_profile: "bob" });
    expect([again.user_id, again.user_id_alt, again.notifier_profile]).toEqual(["first-user", "uuid-1", "alice"]);
  });

  it("notify: delivery metadata dicts are merged, later keys winning", async () => {
    const b = board();
    const { key } = await subscribed(b, { delivery_metadata: { guild_id: "g1", scope_id: "s1" } });
    const merged = await b.addNotifySub({ ...key, delivery_metadata: { scope_id: "s2", parent_chat_id: "p" } });
    expect(merged.delivery_metadata).toEqual({ guild_id: "g1", scope_id: "s2", parent_chat_id: "p" });
    expect((await b.addNotifySub(key)).delivery_metadata).toEqual({
      guild_id: "g1",
      scope_id: "s2",
      parent_chat_id: "p",
    });
  });

  it("notify: stores the owning notifier profile so each gateway claims only its own subscriptions", async () => {
    const b = board();
    const t = await b.createTask({ title: "x" });
    await b.addNotifySub({ task_id: t.id, platform: "telegram", chat_id: "a", notifier_profile: "alice" });
    await b.addNotifySub({ task_id: t.id, platform: "telegram", chat_id: "b" });
    expect((await b.listNotifySubs(t.id)).map((s) => [s.chat_id, s.notifier_profile])).toEqual([
      ["a", "alice"],
      ["b", null],
    ]);
  });

  it("notify: refuses a bad delivery mode, chat type, blank platform or chat, and an unknown task", async () => {
    const b = board();
    const t = await b.createTask({ title: "x" });
    const key = { task_id: t.id, platform: "telegram", chat_id: "1" };
    await expect(b.addNotifySub({ ...key, delivery_mode: "shout" })).rejects.toThrow(
      kernelError("INVALID_INPUT", "delivery_mode must be one of notify, notify+wake, wake"),
    );
    await expect(b.addNotifySub({ ...key, chat_type: "forum" })).rejects.toThrow(
      kernelError("INVALID_INPUT", "chat_type must be one of dm, group, channel, thread"),
    );
    await expect(b.addNotifySub({ ...key, platform: " " })).rejects.toThrow(
      kernelError("INVALID_INPUT", "platform is required"),
    );
    await expect(b.addNotifySub({ ...key, chat_id: "" })).rejects.toThrow(
      kernelError("INVALID_INPUT", "chat_id is required"),
    );
    await expect(b.addNotifySub({ ...key, task_id: "t_missing0" })).rejects.toThrow(
      kernelError("NOT_FOUND", "unknown task t_missing0"),
    );
    expect(await subCount(b)).toBe(0);
  });

  it("notify: list across the board and remove by key", async () => {
    const b = board();
    const a = await subscribed(b);
    const c = await subscribed(b);
    expect((await b.listNotifySubs()).map((s) => s.task_id).sort()).toEqual([a.id, c.id].sort());
    expect(await b.removeNotifySub(a.key)).toBe(true);
    expect(await b.removeNotifySub(a.key)).toBe(false);
    expect((await b.listNotifySubs()).map((s) => s.task_id)).toEqual([c.id]);
  });
});

describe("notify: cursors", () => {
  it("notify: unseen events are read without advancing the cursor, filtered by kind, with their run id", async () => {
    const b = board();
    const { id, key } = await subscribed(b);
    const run = (await b.claimTask(id))?.current_run_id;
    await b.heartbeatWorker(id, { note: "working" });
    const all = await b.unseenEventsForSub(key);
    expect(all.events.map((e) => [e.kind, e.run_id])).toEqual([
      ["claimed", run],
      ["heartbeat", run],
    ]);
    expect(all.max_id).toBe(await maxEventId(b, id));
    const claimedOnly = await b.unseenEventsForSub(key, ["claimed"]);
    expect(claimedOnly.events.map((e) => e.kind)).toEqual(["claimed"]);
    expect(claimedOnly.max_id).toBe(all.max_id);
    expect((await b.unseenEventsForSub(key)).events).toHaveLength(2);
  });

  it("notify: advance moves the cursor forward only", async () => {
    const b = board();
    const { id, key } = await subscribed(b);
    await b.addComment(id, "bob", "one");
    const top = await maxEventId(b, id);
    expect(await b.advanceNotifyCursor(key, top)).toBe(true);
    expect((await b.unseenEventsForSub(key)).events).toEqual([]);
    expect(await b.advanceNotifyCursor(key, top - 1)).toBe(false);
    expect((await b.listNotifySubs(id))[0]?.last_event_id).toBe(top);
  });

  it("notify: claim returns the unseen events and advances the cursor in one step", async () => {
    const b = board();
    const { id, key } = await subscribed(b);
    const start = await maxEventId(b, id);
    await b.completeTask(id, { summary: "shipped" });
    const claim = await b.claimUnseenEventsForSub(key, ["completed"]);
    expect(claim.old_cursor).toBe(start);
    expect(claim.new_cursor).toBe(await maxEventId(b, id));
    expect(claim.events.map((e) => e.kind)).toEqual(["completed"]);
    expect((await b.listNotifySubs(id))[0]?.last_event_id).toBe(claim.new_cursor);
  });

  it("notify: two notifiers claiming the same subscription never get the same events", async () => {
    const b = board();
    const other = openTestBoardAgain(b, { clock: b.clock });
    try {
      const { id, key } = await subscribed(b);
      await b.blockTask(id, { reason: "need input" });
      const first = await b.claimUnseenEventsForSub(key, ["blocked"]);
      const second = await other.claimUnseenEventsForSub(key, ["blocked"]);
      expect(first.events.map((e) => e.kind)).toEqual(["blocked"]);
      expect(second.events).toEqual([]);
      expect(second.old_cursor).toBe(first.new_cursor);
    } finally {
      await other.close();
    }
  });

  it("notify: a second blocked event is delivered after the first was claimed", async () => {
    const b = board();
    const { id, key } = await subscribed(b);
    await b.blockTask(id, { reason: "first" });
    expect((await b.claimUnseenEventsForSub(key, ["blocked"])).events.map((e) => e.payload?.reason)).toEqual(["first"]);
    await b.unblockTask(id);
    await b.blockTask(id, { reason: "second" });
    expect((await b.claimUnseenEventsForSub(key, ["blocked"])).events.map((e) => e.payload?.reason)).toEqual([
      "second",
    ]);
  });

  it("notify: a claim with nothing new leaves the cursor alone", async () => {
    const b = board();
    const { id, key } = await subscribed(b);
    const before = (await b.listNotifySubs(id))[0]?.last_event_id ?? -1;
    expect(await b.claimUnseenEventsForSub(key)).toEqual({ old_cursor: before, new_cursor: before, events: [] });
  });

  it("notify: rewind undoes a claim so the next tick can retry the delivery", async () => {
    const b = board();
    const { id, key } = await subscribed(b);
    await b.completeTask(id, { summary: "done" });
    const claim = await b.claimUnseenEventsForSub(key, ["completed"]);
    expect(await b.rewindNotifyCursor(key, claim.new_cursor, claim.old_cursor)).toBe(true);
    expect((await b.listNotifySubs(id))[0]?.last_event_id).toBe(claim.old_cursor);
    expect((await b.claimUnseenEventsForSub(key, ["completed"])).events.map((e) => e.kind)).toEqual(["completed"]);
  });

  it("notify: rewind is refused once someone advanced the cursor further", async () => {
    const b = board();
    const { id, key } = await subscribed(b);
    await b.addComment(id, "bob", "one");
    const claim = await b.claimUnseenEventsForSub(key);
    await b.addComment(id, "bob", "two");
    const later = await b.claimUnseenEventsForSub(key);
    expect(later.old_cursor).toBe(claim.new_cursor);
    expect(await b.rewindNotifyCursor(key, claim.new_cursor, claim.old_cursor)).toBe(false);
    expect((await b.listNotifySubs(id))[0]?.last_event_id).toBe(later.new_cursor);
  });

  it("notify: reading or claiming an unknown subscription is NOT_FOUND", async () => {
    const b = board();
    const t = await b.createTask({ title: "x" });
    const key = { task_id: t.id, platform: "telegram", chat_id: "nobody" };
    await expect(b.unseenEventsForSub(key)).rejects.toThrow(kernelError("NOT_FOUND", "no such subscription"));
    await expect(b.claimUnseenEventsForSub(key)).rejects.toThrow(kernelError("NOT_FOUND", "no such subscription"));
  });
});

describe("notify: inheritance", () => {
  it("notify: a child created under a subscribed parent inherits its subscriptions, caught up to the child's own events", async () => {
    const b = board();
    const p = await b.createTask({ title: "parent" });
    await b.addNotifySub({
      task_id: p.id,
      platform: "discord",
      chat_id: "c1",
      thread_id: "th",
      user_id: "u",
      user_id_alt: "alt",
      chat_type: "thread",
      notifier_profile: "alice",
      delivery_mode: "notify+wake",
      delivery_metadata: { guild_id: "g" },
    });
    b.clock.advance(5);
    const c = await b.createTask({ title: "child", parents: [p.id] });
    expect(await b.listNotifySubs(c.id)).toEqual([
      {
        task_id: c.id,
        platform: "discord",
        chat_id: "c1",
        thread_id: "th",
        user_id: "u",
        user_id_alt: "alt",
        chat_type: "thread",
        notifier_profile: "alice",
        delivery_mode: "notify+wake",
        delivery_metadata: { guild_id: "g" },
        created_at: b.clock.seconds,
        last_event_id: await maxEventId(b, c.id),
      },
    ]);
    // The child's own created event is already behind the cursor.
    expect(
      (await b.unseenEventsForSub({ task_id: c.id, platform: "discord", chat_id: "c1", thread_id: "th" })).events,
    ).toEqual([]);
  });

  it("notify: a child of several subscribed parents gets each distinct subscription once", async () => {
    const b = board();
    const p1 = await b.createTask({ title: "p1" });
    const p2 = await b.createTask({ title: "p2" });
    await b.addNotifySub({ task_id: p1.id, platform: "telegram", chat_id: "shared" });
    await b.addNotifySub({ task_id: p2.id, platform: "telegram", chat_id: "shared" });
    await b.addNotifySub({ task_id: p2.id, platform: "slack", chat_id: "own" });
    const c = await b.createTask({ title: "child", parents: [p1.id, p2.id] });
    expect((await b.listNotifySubs(c.id)).map((s) => `${s.platform}:${s.chat_id}`).sort()).toEqual([
      "slack:own",
      "telegram:shared",
    ]);
  });

  it("notify: linking a task under a subscribed parent copies the parent's subscriptions", async () => {
    const b = board();
    const p = await b.createTask({ title: "parent" });
    const c = await b.createTask({ title: "child" });
    await b.addNotifySub({ task_id: p.id, platform: "telegram", chat_id: "42", notifier_profile: "alice" });
    await b.linkTasks(p.id, c.id);
    const subs = await b.listNotifySubs(c.id);
    expect(subs.map((s) => [s.platform, s.chat_id, s.notifier_profile])).toEqual([["telegram", "42", "alice"]]);
    expect(subs[0]?.last_event_id).toBe(await maxEventId(b, c.id));
  });

  it("notify: a tenant's subscribers follow only children of the same tenant; an operator's follow any child", async () => {
    const b = board();
    const globex = await b.createTask({ title: "globex parent", tenant: "globex" });
    const operator = await b.createTask({ title: "operator parent" });
    await b.addNotifySub({ task_id: globex.id, platform: "telegram", chat_id: "globex-chat" });
    await b.addNotifySub({ task_id: operator.id, platform: "telegram", chat_id: "ops-chat" });
    const acme = await b.createTask({ title: "acme child", tenant: "acme" });
    await b.linkTasks(globex.id, acme.id);
    await b.linkTasks(operator.id, acme.id);
    expect((await b.listNotifySubs(acme.id)).map((s) => s.chat_id)).toEqual(["ops-chat"]);
    const created = await b.createTask({ title: "acme child 2", tenant: "acme", parents: [globex.id] });
    expect(await b.listNotifySubs(created.id)).toEqual([]);
    const sameTenant = await b.createTask({ title: "globex child", tenant: "globex", parents: [globex.id] });
    expect((await b.listNotifySubs(sameTenant.id)).map((s) => s.chat_id)).toEqual(["globex-chat"]);
  });

  it("notify: inheritance never overwrites the child's own subscription", async () => {
    const b = board();
    const p = await b.createTask({ title: "parent" });
    const c = await b.createTask({ title: "child" });
    await b.addNotifySub({
      task_id: c.id,
      platform: "telegram",
      chat_id: "42",
      delivery_mode: "wake",
      notifier_profile: "bob",
    });
    await b.addNotifySub({
      task_id: p.id,
      platform: "telegram",
      chat_id: "42",
      delivery_mode: "notify",
      notifier_profile: "alice",
    });
    await b.linkTasks(p.id, c.id);
    expect((await b.listNotifySubs(c.id)).map((s) => [s.delivery_mode, s.notifier_profile])).toEqual([["wake", "bob"]]);
  });

  it("notify: subscriptions added to the parent after the child exists are not copied retroactively", async () => {
    const b = board();
    const p = await b.createTask({ title: "parent" });
    const c = await b.createTask({ title: "child", parents: [p.id] });
    await b.addNotifySub({ task_id: p.id, platform: "telegram", chat_id: "42" });
    expect(await b.listNotifySubs(c.id)).toEqual([]);
  });
});
