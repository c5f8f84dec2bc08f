import { describe, expect, it } from "vitest";
import { openBoard } from "./board.ts";
import type { NotifySubKey } from "./notify.ts";
import { boardInternals, type TestBoard } from "./testing/index.ts";
import { kernelError, useTestBoards } from "./testing/helpers.ts";

// Spec §2.14 (kanban_db_notify), §1.3 kanban_notify_subs, §7.1 (inheritance), §7.2 (claim/rewind);
// Hermes tests: test_kanban_core_functionality.py (notify CRUD, cursor, single-owner claim),
// test_kanban_notify.py and tests/gateway/test_kanban_notifier.py (their kernel parts).

const board = useTestBoards();
const maxEventId = (b: TestBoard, taskId: string) =>
  (
    boardInternals(b)
      .sqlite.prepare("SELECT COALESCE(MAX(id), 0) AS m FROM task_events WHERE task_id = ?")
      .get(taskId) as { m: number }
  ).m;
const subCount = (b: TestBoard) =>
  (boardInternals(b).sqlite.prepare("SELECT count(*) AS n FROM kanban_notify_subs").get() as { n: number }).n;

/** A task with a telegram subscription, and the subscription's key. */
function subscribed(b: TestBoard, extra: Record<string, unknown> = {}): { id: string; key: NotifySubKey } {
  const t = b.createTask({ title: "watched", assignee: "alice" });
  const key = { task_id: t.id, platform: "telegram", chat_id: "chat-1" };
  b.addNotifySub({ ...key, ...extra });
  return { id: t.id, key };
}

describe("notify: subscriptions", () => {
  it("notify: add creates one row with Hermes' defaults", () => {
    const b = board();
    const t = b.createTask({ title: "x" });
    const sub = b.addNotifySub({ task_id: t.id, platform: "telegram", chat_id: "42", user_id: "u1" });
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
      last_event_id: maxEventId(b, t.id),
    });
    expect(b.listNotifySubs(t.id)).toEqual([sub]);
  });

  it("notify: add is idempotent on (task, platform, chat, thread); a null thread is ''", () => {
    const b = board();
    const t = b.createTask({ title: "x" });
    b.addNotifySub({ task_id: t.id, platform: "telegram", chat_id: "42" });
    b.addNotifySub({ task_id: t.id, platform: "telegram", chat_id: "42", thread_id: null });
    b.addNotifySub({ task_id: t.id, platform: "telegram", chat_id: "42", thread_id: "" });
    expect(subCount(b)).toBe(1);
    b.addNotifySub({ task_id: t.id, platform: "telegram", chat_id: "42", thread_id: "topic-7" });
    b.addNotifySub({ task_id: t.id, platform: "discord", chat_id: "42" });
    expect(subCount(b)).toBe(3);
  });

  it("notify: a new subscription starts caught up at the task's newest event (B fix)", () => {
    const b = board();
    const t = b.createTask({ title: "x" });
    b.claimTask(t.id);
    b.heartbeatWorker(t.id, { note: "busy" });
    const sub = b.addNotifySub({ task_id: t.id, platform: "telegram", chat_id: "42" });
    expect(sub.last_event_id).toBe(maxEventId(b, t.id));
    expect(sub.last_event_id).toBeGreaterThan(0);
    expect(b.unseenEventsForSub(sub).events).toEqual([]);
  });

  it("notify: re-adding an existing subscription does not move its cursor", () => {
    const b = board();
    const { id, key } = subscribed(b);
    const before = b.listNotifySubs(id)[0]?.last_event_id;
    b.addComment(id, "bob", "news");
    expect(b.addNotifySub(key).last_event_id).toBe(before);
    expect(b.unseenEventsForSub(key).events.map((e) => e.kind)).toEqual(["commented"]);
  });

  it("notify: api_server subscriptions default to notify+wake; an explicit mode wins", () => {
    const b = board();
    const t = b.createTask({ title: "x" });
    expect(b.addNotifySub({ task_id: t.id, platform: "api_server", chat_id: "s1" }).delivery_mode).toBe("notify+wake");
    expect(
      b.addNotifySub({ task_id: t.id, platform: "api_server", chat_id: "s2", delivery_mode: "wake" }).delivery_mode,
    ).toBe("wake");
    expect(
      b.addNotifySub({ task_id: t.id, platform: "slack", chat_id: "c", delivery_mode: "notify+wake" }).delivery_mode,
    ).toBe("notify+wake");
  });

  it("notify: on an existing row chat_type, delivery_mode and metadata are last-write-wins when given", () => {
    const b = board();
    const { key } = subscribed(b, { chat_type: "group", delivery_mode: "notify" });
    const updated = b.addNotifySub({ ...key, chat_type: "thread", delivery_mode: "wake" });
    expect([updated.chat_type, updated.delivery_mode]).toEqual(["thread", "wake"]);
    // Not given: kept.
    const kept = b.addNotifySub(key);
    expect([kept.chat_type, kept.delivery_mode]).toEqual(["thread", "wake"]);
  });

  it("notify: on an existing row user_id, user_id_alt and notifier_profile only fill blanks", () => {
    const b = board();
    const { key } = subscribed(b, { user_id: "first-user" });
    const filled = b.addNotifySub({ ...key, user_id: "second-user", user_id_alt: "uuid-1", notifier_profile: "alice" });
    expect([filled.user_id, filled.user_id_alt, filled.notifier_profile]).toEqual(["first-user", "uuid-1", "alice"]);
    const again = b.addNotifySub({ ...key, user_id_alt: "uuid-2", notifier_profile: "bob" });
    expect([again.user_id, again.user_id_alt, again.notifier_profile]).toEqual(["first-user", "uuid-1", "alice"]);
  });

  it("notify: delivery metadata dicts are merged, later keys winning", () => {
    const b = board();
    const { key } = subscribed(b, { delivery_metadata: { guild_id: "g1", scope_id: "s1" } });
    const merged = b.addNotifySub({ ...key, delivery_metadata: { scope_id: "s2", parent_chat_id: "p" } });
    expect(merged.delivery_metadata).toEqual({ guild_id: "g1", scope_id: "s2", parent_chat_id: "p" });
    expect(b.addNotifySub(key).delivery_metadata).toEqual({ guild_id: "g1", scope_id: "s2", parent_chat_id: "p" });
  });

  it("notify: stores the owning notifier profile so each gateway claims only its own subscriptions", () => {
    const b = board();
    const t = b.createTask({ title: "x" });
    b.addNotifySub({ task_id: t.id, platform: "telegram", chat_id: "a", notifier_profile: "alice" });
    b.addNotifySub({ task_id: t.id, platform: "telegram", chat_id: "b" });
    expect(b.listNotifySubs(t.id).map((s) => [s.chat_id, s.notifier_profile])).toEqual([
      ["a", "alice"],
      ["b", null],
    ]);
  });

  it("notify: refuses a bad delivery mode, chat type, blank platform or chat, and an unknown task", () => {
    const b = board();
    const t = b.createTask({ title: "x" });
    const key = { task_id: t.id, platform: "telegram", chat_id: "1" };
    expect(() => b.addNotifySub({ ...key, delivery_mode: "shout" })).toThrow(
      kernelError("INVALID_INPUT", "delivery_mode must be one of notify, notify+wake, wake"),
    );
    expect(() => b.addNotifySub({ ...key, chat_type: "forum" })).toThrow(
      kernelError("INVALID_INPUT", "chat_type must be one of dm, group, channel, thread"),
    );
    expect(() => b.addNotifySub({ ...key, platform: " " })).toThrow(
      kernelError("INVALID_INPUT", "platform is required"),
    );
    expect(() => b.addNotifySub({ ...key, chat_id: "" })).toThrow(kernelError("INVALID_INPUT", "chat_id is required"));
    expect(() => b.addNotifySub({ ...key, task_id: "t_missing0" })).toThrow(
      kernelError("NOT_FOUND", "unknown task t_missing0"),
    );
    expect(subCount(b)).toBe(0);
  });

  it("notify: list across the board and remove by key", () => {
    const b = board();
    const a = subscribed(b);
    const c = subscribed(b);
    expect(
      b
        .listNotifySubs()
        .map((s) => s.task_id)
        .sort(),
    ).toEqual([a.id, c.id].sort());
    expect(b.removeNotifySub(a.key)).toBe(true);
    expect(b.removeNotifySub(a.key)).toBe(false);
    expect(b.listNotifySubs().map((s) => s.task_id)).toEqual([c.id]);
  });
});

describe("notify: cursors", () => {
  it("notify: unseen events are read without advancing the cursor, filtered by kind, with their run id", () => {
    const b = board();
    const { id, key } = subscribed(b);
    const run = b.claimTask(id)?.current_run_id;
    b.heartbeatWorker(id, { note: "working" });
    const all = b.unseenEventsForSub(key);
    expect(all.events.map((e) => [e.kind, e.run_id])).toEqual([
      ["claimed", run],
      ["heartbeat", run],
    ]);
    expect(all.max_id).toBe(maxEventId(b, id));
    const claimedOnly = b.unseenEventsForSub(key, ["claimed"]);
    expect(claimedOnly.events.map((e) => e.kind)).toEqual(["claimed"]);
    expect(claimedOnly.max_id).toBe(all.max_id);
    expect(b.unseenEventsForSub(key).events).toHaveLength(2);
  });

  it("notify: advance moves the cursor forward only", () => {
    const b = board();
    const { id, key } = subscribed(b);
    b.addComment(id, "bob", "one");
    const top = maxEventId(b, id);
    expect(b.advanceNotifyCursor(key, top)).toBe(true);
    expect(b.unseenEventsForSub(key).events).toEqual([]);
    expect(b.advanceNotifyCursor(key, top - 1)).toBe(false);
    expect(b.listNotifySubs(id)[0]?.last_event_id).toBe(top);
  });

  it("notify: claim returns the unseen events and advances the cursor in one step", () => {
    const b = board();
    const { id, key } = subscribed(b);
    const start = maxEventId(b, id);
    b.completeTask(id, { summary: "shipped" });
    const claim = b.claimUnseenEventsForSub(key, ["completed"]);
    expect(claim.old_cursor).toBe(start);
    expect(claim.new_cursor).toBe(maxEventId(b, id));
    expect(claim.events.map((e) => e.kind)).toEqual(["completed"]);
    expect(b.listNotifySubs(id)[0]?.last_event_id).toBe(claim.new_cursor);
  });

  it("notify: two notifiers claiming the same subscription never get the same events", () => {
    const b = board();
    const other = openBoard({ path: b.path, clock: b.clock, warn: () => {} });
    try {
      const { id, key } = subscribed(b);
      b.blockTask(id, { reason: "need input" });
      const first = b.claimUnseenEventsForSub(key, ["blocked"]);
      const second = other.claimUnseenEventsForSub(key, ["blocked"]);
      expect(first.events.map((e) => e.kind)).toEqual(["blocked"]);
      expect(second.events).toEqual([]);
      expect(second.old_cursor).toBe(first.new_cursor);
    } finally {
      other.close();
    }
  });

  it("notify: a second blocked event is delivered after the first was claimed", () => {
    const b = board();
    const { id, key } = subscribed(b);
    b.blockTask(id, { reason: "first" });
    expect(b.claimUnseenEventsForSub(key, ["blocked"]).events.map((e) => e.payload?.reason)).toEqual(["first"]);
    b.unblockTask(id);
    b.blockTask(id, { reason: "second" });
    expect(b.claimUnseenEventsForSub(key, ["blocked"]).events.map((e) => e.payload?.reason)).toEqual(["second"]);
  });

  it("notify: a claim with nothing new leaves the cursor alone", () => {
    const b = board();
    const { id, key } = subscribed(b);
    const before = b.listNotifySubs(id)[0]?.last_event_id ?? -1;
    expect(b.claimUnseenEventsForSub(key)).toEqual({ old_cursor: before, new_cursor: before, events: [] });
  });

  it("notify: rewind undoes a claim so the next tick can retry the delivery", () => {
    const b = board();
    const { id, key } = subscribed(b);
    b.completeTask(id, { summary: "done" });
    const claim = b.claimUnseenEventsForSub(key, ["completed"]);
    expect(b.rewindNotifyCursor(key, claim.new_cursor, claim.old_cursor)).toBe(true);
    expect(b.listNotifySubs(id)[0]?.last_event_id).toBe(claim.old_cursor);
    expect(b.claimUnseenEventsForSub(key, ["completed"]).events.map((e) => e.kind)).toEqual(["completed"]);
  });

  it("notify: rewind is refused once someone advanced the cursor further", () => {
    const b = board();
    const { id, key } = subscribed(b);
    b.addComment(id, "bob", "one");
    const claim = b.claimUnseenEventsForSub(key);
    b.addComment(id, "bob", "two");
    const later = b.claimUnseenEventsForSub(key);
    expect(later.old_cursor).toBe(claim.new_cursor);
    expect(b.rewindNotifyCursor(key, claim.new_cursor, claim.old_cursor)).toBe(false);
    expect(b.listNotifySubs(id)[0]?.last_event_id).toBe(later.new_cursor);
  });

  it("notify: reading or claiming an unknown subscription is NOT_FOUND", () => {
    const b = board();
    const t = b.createTask({ title: "x" });
    const key = { task_id: t.id, platform: "telegram", chat_id: "nobody" };
    expect(() => b.unseenEventsForSub(key)).toThrow(kernelError("NOT_FOUND", "no such subscription"));
    expect(() => b.claimUnseenEventsForSub(key)).toThrow(kernelError("NOT_FOUND", "no such subscription"));
  });
});

describe("notify: inheritance", () => {
  it("notify: a child created under a subscribed parent inherits its subscriptions, caught up to the child's own events", () => {
    const b = board();
    const p = b.createTask({ title: "parent" });
    b.addNotifySub({
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
    const c = b.createTask({ title: "child", parents: [p.id] });
    expect(b.listNotifySubs(c.id)).toEqual([
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
        last_event_id: maxEventId(b, c.id),
      },
    ]);
    // The child's own created event is already behind the cursor.
    expect(b.unseenEventsForSub({ task_id: c.id, platform: "discord", chat_id: "c1", thread_id: "th" }).events).toEqual(
      [],
    );
  });

  it("notify: a child of several subscribed parents gets each distinct subscription once", () => {
    const b = board();
    const p1 = b.createTask({ title: "p1" });
    const p2 = b.createTask({ title: "p2" });
    b.addNotifySub({ task_id: p1.id, platform: "telegram", chat_id: "shared" });
    b.addNotifySub({ task_id: p2.id, platform: "telegram", chat_id: "shared" });
    b.addNotifySub({ task_id: p2.id, platform: "slack", chat_id: "own" });
    const c = b.createTask({ title: "child", parents: [p1.id, p2.id] });
    expect(
      b
        .listNotifySubs(c.id)
        .map((s) => `${s.platform}:${s.chat_id}`)
        .sort(),
    ).toEqual(["slack:own", "telegram:shared"]);
  });

  it("notify: linking a task under a subscribed parent copies the parent's subscriptions", () => {
    const b = board();
    const p = b.createTask({ title: "parent" });
    const c = b.createTask({ title: "child" });
    b.addNotifySub({ task_id: p.id, platform: "telegram", chat_id: "42", notifier_profile: "alice" });
    b.linkTasks(p.id, c.id);
    const subs = b.listNotifySubs(c.id);
    expect(subs.map((s) => [s.platform, s.chat_id, s.notifier_profile])).toEqual([["telegram", "42", "alice"]]);
    expect(subs[0]?.last_event_id).toBe(maxEventId(b, c.id));
  });

  it("notify: a tenant's subscribers follow only children of the same tenant; an operator's follow any child", () => {
    const b = board();
    const globex = b.createTask({ title: "globex parent", tenant: "globex" });
    const operator = b.createTask({ title: "operator parent" });
    b.addNotifySub({ task_id: globex.id, platform: "telegram", chat_id: "globex-chat" });
    b.addNotifySub({ task_id: operator.id, platform: "telegram", chat_id: "ops-chat" });
    const acme = b.createTask({ title: "acme child", tenant: "acme" });
    b.linkTasks(globex.id, acme.id);
    b.linkTasks(operator.id, acme.id);
    expect(b.listNotifySubs(acme.id).map((s) => s.chat_id)).toEqual(["ops-chat"]);
    const created = b.createTask({ title: "acme child 2", tenant: "acme", parents: [globex.id] });
    expect(b.listNotifySubs(created.id)).toEqual([]);
    const sameTenant = b.createTask({ title: "globex child", tenant: "globex", parents: [globex.id] });
    expect(b.listNotifySubs(sameTenant.id).map((s) => s.chat_id)).toEqual(["globex-chat"]);
  });

  it("notify: inheritance never overwrites the child's own subscription", () => {
    const b = board();
    const p = b.createTask({ title: "parent" });
    const c = b.createTask({ title: "child" });
    b.addNotifySub({
      task_id: c.id,
      platform: "telegram",
      chat_id: "42",
      delivery_mode: "wake",
      notifier_profile: "bob",
    });
    b.addNotifySub({
      task_id: p.id,
      platform: "telegram",
      chat_id: "42",
      delivery_mode: "notify",
      notifier_profile: "alice",
    });
    b.linkTasks(p.id, c.id);
    expect(b.listNotifySubs(c.id).map((s) => [s.delivery_mode, s.notifier_profile])).toEqual([["wake", "bob"]]);
  });

  it("notify: subscriptions added to the parent after the child exists are not copied retroactively", () => {
    const b = board();
    const p = b.createTask({ title: "parent" });
    const c = b.createTask({ title: "child", parents: [p.id] });
    b.addNotifySub({ task_id: p.id, platform: "telegram", chat_id: "42" });
    expect(b.listNotifySubs(c.id)).toEqual([]);
  });
});
