import { describe, expect, it } from "vitest";
import type { NotifySubKey } from "./notify.ts";
import { scopeBoard } from "./scoped-board.ts";
import type { TestBoard } from "./testing/index.ts";
import { useTestBoards } from "./testing/helpers.ts";

// Issue 17: the delivery log the notifier writes one row per attempt to, and reads its failure
// streak back from; dropping a subscription after too many failures.

const board = useTestBoards();

async function subscribed(b: TestBoard, tenant?: string): Promise<{ id: string; key: NotifySubKey }> {
  const t = await b.createTask({ title: "watched", assignee: "alice", ...(tenant ? { tenant } : {}) });
  const key = { task_id: t.id, platform: "webhook", chat_id: "ops" };
  await b.addNotifySub(key);
  return { id: t.id, key };
}

describe("notify deliveries: the log", () => {
  it("records attempts and lists them newest first, per task and per subscription", async () => {
    const b = board();
    const { id, key } = await subscribed(b);
    await b.recordNotifyDelivery({ ...key, event_id: 7, kind: "completed", outcome: "delivered", http_status: 200 });
    b.clock.advance(5);
    await b.recordNotifyDelivery({ ...key, chat_id: "other", kind: "blocked", outcome: "failed", http_status: 500 });
    const rows = await b.listNotifyDeliveries({ task_id: id });
    expect(rows.map((r) => [r.chat_id, r.outcome, r.http_status])).toEqual([
      ["other", "failed", 500],
      ["ops", "delivered", 200],
    ]);
    expect(rows[1]).toMatchObject({ event_id: 7, thread_id: "", kind: "completed", attempted_at: b.clock.seconds - 5 });
    const one = await b.listNotifyDeliveries({ ...key });
    expect(one.map((r) => r.chat_id)).toEqual(["ops"]);
    expect(await b.listNotifyDeliveries({ limit: 1 })).toHaveLength(1);
  });

  it("keeps an error to one line and refuses an unknown outcome", async () => {
    const b = board();
    const { id, key } = await subscribed(b);
    await b.recordNotifyDelivery({ ...key, kind: "x", outcome: "network", error: "connect\nECONNREFUSED\n\n" });
    expect((await b.listNotifyDeliveries({ task_id: id }))[0]?.error).toBe("connect ECONNREFUSED");
    await expect(
      // @ts-expect-error an outcome the log does not know
      b.recordNotifyDelivery({ ...key, kind: "x", outcome: "maybe" }),
    ).rejects.toMatchObject({ code: "INVALID_INPUT" });
  });

  it("the failure streak counts failed rows since the last success, not network rows", async () => {
    const b = board();
    const { key } = await subscribed(b);
    expect(await b.notifyFailureStreak(key)).toEqual({ failures: 0, last_error: null, last_status: null });
    await b.recordNotifyDelivery({ ...key, kind: "k", outcome: "failed", http_status: 500, error: "HTTP 500" });
    await b.recordNotifyDelivery({ ...key, kind: "k", outcome: "delivered", http_status: 200 });
    await b.recordNotifyDelivery({ ...key, kind: "k", outcome: "failed", http_status: 502, error: "HTTP 502" });
    await b.recordNotifyDelivery({ ...key, kind: "k", outcome: "network", error: "ECONNREFUSED" });
    await b.recordNotifyDelivery({ ...key, kind: "k", outcome: "failed", http_status: 503, error: "HTTP 503" });
    // another subscription's failures are its own
    await b.recordNotifyDelivery({ ...key, chat_id: "else", kind: "k", outcome: "failed", error: "HTTP 500" });
    expect(await b.notifyFailureStreak(key)).toEqual({ failures: 2, last_error: "HTTP 503", last_status: 503 });
  });

  it("GC forgets rows older than 14 days", async () => {
    const b = board();
    const { id, key } = await subscribed(b);
    await b.recordNotifyDelivery({ ...key, kind: "old", outcome: "delivered" });
    b.clock.advance(14 * 24 * 3600 - 10);
    await b.recordNotifyDelivery({ ...key, kind: "new", outcome: "delivered" });
    b.clock.advance(11);
    expect(await b.gcNotifyDeliveries()).toBe(1);
    expect((await b.listNotifyDeliveries({ task_id: id })).map((r) => r.kind)).toEqual(["new"]);
  });

  it("a tenant reads its own tasks' rows only", async () => {
    const b = board();
    const mine = await subscribed(b, "acme");
    const theirs = await subscribed(b, "globex");
    await b.recordNotifyDelivery({ ...mine.key, kind: "a", outcome: "delivered" });
    await b.recordNotifyDelivery({ ...theirs.key, kind: "b", outcome: "delivered" });
    const acme = scopeBoard(b, { tenant: "acme" });
    expect((await acme.listNotifyDeliveries()).map((r) => r.kind)).toEqual(["a"]);
    await expect(acme.listNotifyDeliveries({ task_id: theirs.id })).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(await scopeBoard(b, { tenant: null }).listNotifyDeliveries()).toHaveLength(2);
  });
});

describe("notify deliveries: dropping a subscription", () => {
  it("removes it, puts notify_dropped on the card and logs a dropped row, once", async () => {
    const b = board();
    const { id, key } = await subscribed(b);
    expect(await b.dropNotifySub(key, { failures: 12, last_error: "HTTP 500" })).toBe(true);
    expect(await b.listNotifySubs(id)).toEqual([]);
    const ev = (await b.listEvents(id)).filter((e) => e.kind === "notify_dropped");
    expect(ev.map((e) => e.payload)).toEqual([
      { platform: "webhook", chat_id: "ops", failures: 12, last_error: "HTTP 500" },
    ]);
    expect((await b.listNotifyDeliveries({ task_id: id })).map((r) => r.outcome)).toEqual(["dropped"]);
    // a second notifier racing to drop it finds it gone
    expect(await b.dropNotifySub(key, { failures: 12, last_error: "HTTP 500" })).toBe(false);
    expect((await b.listEvents(id)).filter((e) => e.kind === "notify_dropped")).toHaveLength(1);
    // and the streak starts over should the chat subscribe again
    expect((await b.notifyFailureStreak(key)).failures).toBe(0);
  });
});
