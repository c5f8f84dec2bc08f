import { type Board, openBoard } from "@kanban/kernel";
import { createTestBoard, rawSql, type TestBoard, type TestClock } from "@kanban/kernel/testing";
import { type Channel, verifySignature } from "@kanban/notify";
import { deadUrl, startReceiver, type TestReceiver } from "@kanban/notify/testing";
import { afterEach, describe, expect, it } from "vitest";
import { Notifier, type NotifierSettings } from "./notifier.ts";

// Issue 17 "notifications that arrive": the notifier against real HTTP receivers on 127.0.0.1,
// with the board's clock injected (backoff waits are clock time, not sleeps).

const SECRET = "whsec-0123456789-very-secret";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function testBoard(): TestBoard {
  const b = createTestBoard();
  cleanups.push(() => b.cleanup());
  return b;
}
async function receiver(): Promise<TestReceiver> {
  const r = await startReceiver();
  cleanups.push(() => r.close());
  return r;
}

interface Harness {
  notifier: Notifier<{ slug: string }>;
  logs: string[];
  settings: NotifierSettings;
}

function harness(
  boards: Board[],
  channels: Channel[],
  clock: TestClock,
  over: Partial<NotifierSettings> = {},
): Harness {
  const logs: string[] = [];
  const settings: NotifierSettings = {
    enabled: true,
    intervalSeconds: 5,
    maxFailures: 12,
    publicUrl: "http://board.example:3000",
    channels: Object.fromEntries(channels.map((c) => [c.name, c])),
    ...over,
  };
  let i = 0;
  const notifier = new Notifier<{ slug: string }>({
    targets: async () => [{ slug: "default" }],
    // each call hands out the next connection (two notifiers each get their own board)
    open: async () => boards[i++ % boards.length] as Board,
    done: () => {},
    settings: () => settings,
    clock,
    log: (l) => logs.push(l),
    warn: (l) => logs.push(`warning: ${l}`),
    random: () => 0.5,
  });
  return { notifier, logs, settings };
}

async function watched(b: Board, platform = "webhook", chat = "ops"): Promise<string> {
  const t = await b.createTask({ title: "Ship the release", assignee: "alice" });
  await b.addNotifySub({ task_id: t.id, platform, chat_id: chat });
  return t.id;
}

const cursorOf = async (b: TestBoard, task: string, platform: string) =>
  (
    await rawSql(b).get<{ c: number }>(
      "SELECT last_event_id AS c FROM kanban_notify_subs WHERE task_id = ? AND platform = ?",
      task,
      platform,
    )
  )?.c;

/** The event ids each accepted (2xx) request carried, in arrival order. */
const accepted = (r: TestReceiver, ok: (n: number) => boolean) =>
  r.received.filter((_x, n) => ok(n + 1)).map((x) => (x.json.event as { id: number }).id);

describe("notifier: delivery", () => {
  it("sends one signed message per notify event, in order, and skips other kinds and other platforms", async () => {
    const b = testBoard();
    const r = await receiver();
    const ch: Channel = { name: "ops", type: "webhook", url: r.url, secret: SECRET };
    const id = await watched(b);
    await b.addNotifySub({ task_id: id, platform: "desktop", chat_id: "browser" });
    await b.addNotifySub({ task_id: id, platform: "tui", chat_id: "session-1" });
    await b.addNotifySub({ task_id: id, platform: "slack", chat_id: "nowhere" });
    const desktopBefore = await cursorOf(b, id, "desktop");
    await b.addComment(id, "bob", "not a notify kind");
    await b.blockTask(id, { reason: "need the signing key" });
    await b.unblockTask(id);
    const h = harness([b], [ch], b.clock);
    const report = await h.notifier.tick();
    expect(report).toMatchObject({ delivered: 2, failed: 0, network: 0 });
    expect(r.received.map((x) => (x.json.event as { kind: string }).kind)).toEqual(["blocked", "unblocked"]);
    const first = r.received[0];
    expect(verifySignature(SECRET, first?.body ?? "", first?.headers["x-kanban-signature"] as string)).toBe(true);
    expect(first?.json).toMatchObject({
      board: "default",
      needs_you: true,
      link: `http://board.example:3000/?board=default&task=${id}`,
      task: { id, title: "Ship the release", assignee: "alice" },
    });
    expect(first?.json.message).toContain("Why: need the signing key");
    expect(first?.json.message).toContain(`kanban unblock ${id}`);
    expect(r.received[1]?.json.needs_you).toBe(false);
    // the log has one row per attempt
    const rows = await b.listNotifyDeliveries({ task_id: id });
    expect(rows.map((x) => [x.kind, x.outcome, x.http_status])).toEqual([
      ["unblocked", "delivered", 200],
      ["blocked", "delivered", 200],
    ]);
    // desktop, tui and a platform without a channel are left alone: their cursors never move
    expect(await cursorOf(b, id, "desktop")).toBe(desktopBefore);
    expect(await cursorOf(b, id, "tui")).toBe(desktopBefore);
    expect(await cursorOf(b, id, "slack")).toBe(desktopBefore);
    expect(h.logs.some((l) => l.includes("no slack channel named 'nowhere'"))).toBe(true);
    // a second pass has nothing new
    expect((await h.notifier.tick()).delivered).toBe(0);
    expect(r.received).toHaveLength(2);
  });

  it("slack and discord receivers get their own bodies", async () => {
    const b = testBoard();
    const r = await receiver();
    const id = await watched(b, "slack", "team");
    await b.addNotifySub({ task_id: id, platform: "discord", chat_id: "guild" });
    await b.blockTask(id, { reason: "which region?" });
    const h = harness(
      [b],
      [
        { name: "team", type: "slack", url: r.url },
        { name: "guild", type: "discord", url: r.url },
      ],
      b.clock,
    );
    expect((await h.notifier.tick()).delivered).toBe(2);
    const bodies = r.received.map((x) => x.json);
    const slack = bodies.find((x) => "blocks" in x);
    const discord = bodies.find((x) => "embeds" in x);
    expect(slack?.text).toMatch(/^\[needs you\] ⏸ \[default\] @alice .* blocked — Ship the release/);
    expect(discord?.content).toContain("Why: which region?");
  });

  it("a receiver that fails 3 times then recovers gets every event once, in order, none lost", async () => {
    const b = testBoard();
    const r = await receiver();
    // requests 2-4 fail (the second event, three times), every other succeeds
    const fails = (n: number) => n >= 2 && n <= 4;
    r.answer = (_x, n) => (fails(n) ? 500 : 200);
    const id = await watched(b);
    await b.blockTask(id, { reason: "first" });
    await b.unblockTask(id);
    await b.blockTask(id, { reason: "second" });
    const events = (await b.listEvents(id)).filter((e) => ["blocked", "unblocked"].includes(e.kind)).map((e) => e.id);
    const h = harness([b], [{ name: "ops", type: "webhook", url: r.url }], b.clock);
    for (let i = 0; i < 6; i++) {
      await h.notifier.tick();
      b.clock.advance(5);
    }
    expect(accepted(r, (n) => !fails(n))).toEqual(events);
    // retried attempts carry the same delivery id, so a receiver could also drop repeats itself
    const ids = r.received.map((x) => x.headers["x-kanban-delivery"]);
    expect(new Set(ids).size).toBe(3);
    const rows = await b.listNotifyDeliveries({ task_id: id });
    expect(rows.filter((x) => x.outcome === "failed")).toHaveLength(3);
    expect(rows.filter((x) => x.outcome === "delivered").map((x) => x.event_id)).toEqual([...events].reverse());
    expect((await b.notifyFailureStreak({ task_id: id, platform: "webhook", chat_id: "ops" })).failures).toBe(0);
    expect(await b.listNotifySubs(id)).toHaveLength(1);
  });

  it("a receiver down for good backs off (5 s doubling, not counted) and is never dropped for it", async () => {
    const b = testBoard();
    const url = await deadUrl();
    const id = await watched(b);
    const before = await cursorOf(b, id, "webhook");
    await b.blockTask(id, { reason: "waiting" });
    const h = harness([b], [{ name: "ops", type: "webhook", url, secret: SECRET }], b.clock, { maxFailures: 2 });
    const attemptsAt: number[] = [];
    for (let s = 0; s <= 1000; s++) {
      const rep = await h.notifier.tick();
      if (rep.network > 0) attemptsAt.push(s);
      b.clock.advance(1);
    }
    // jitter pinned to the middle: 5, 10, 20, 40, 80, 160, 300, 300 s apart
    const gaps = attemptsAt.slice(1).map((t, i) => t - (attemptsAt[i] as number));
    expect(gaps.slice(0, 6)).toEqual([5, 10, 20, 40, 80, 160]);
    expect(Math.max(...gaps)).toBe(300);
    expect(await b.listNotifySubs(id)).toHaveLength(1);
    expect(await cursorOf(b, id, "webhook")).toBe(before);
    const rows = await b.listNotifyDeliveries({ task_id: id });
    expect(rows.every((x) => x.outcome === "network" && x.error === "network error: ECONNREFUSED")).toBe(true);
    expect((await b.listEvents(id)).some((e) => e.kind === "notify_dropped")).toBe(false);
  });

  it("a receiver answering 500 for good is dropped after max failures, with notify_dropped on the card", async () => {
    const b = testBoard();
    const r = await receiver();
    r.answer = () => 500;
    const id = await watched(b);
    await b.blockTask(id, { reason: "waiting" });
    const h = harness([b], [{ name: "ops", type: "webhook", url: r.url, secret: SECRET }], b.clock, {
      maxFailures: 4,
    });
    for (let i = 0; i < 6; i++) {
      await h.notifier.tick();
      b.clock.advance(5);
    }
    expect(r.received).toHaveLength(4);
    expect(await b.listNotifySubs(id)).toEqual([]);
    const dropped = (await b.listEvents(id)).filter((e) => e.kind === "notify_dropped");
    expect(dropped.map((e) => e.payload)).toEqual([
      { platform: "webhook", chat_id: "ops", failures: 4, last_error: "HTTP 500: receiver says no" },
    ]);
    expect((await b.listNotifyDeliveries({ task_id: id }))[0]?.outcome).toBe("dropped");
    expect(h.logs.some((l) => l.includes("dropped after 4 failed deliveries"))).toBe(true);
  });

  it("the archived event is delivered, then the subscription ends", async () => {
    const b = testBoard();
    const r = await receiver();
    const id = await watched(b);
    await b.archiveTask(id);
    const h = harness([b], [{ name: "ops", type: "webhook", url: r.url }], b.clock);
    const rep = await h.notifier.tick();
    expect(rep).toMatchObject({ delivered: 1, unsubscribed: 1 });
    expect(r.received[0]?.json.event).toMatchObject({ kind: "archived" });
    expect(await b.listNotifySubs(id)).toEqual([]);
  });

  it("an archived card whose archived message fails keeps its subscription until it arrives", async () => {
    const b = testBoard();
    const r = await receiver();
    r.answer = (_x, n) => (n === 1 ? 503 : 200);
    const id = await watched(b);
    await b.archiveTask(id);
    const h = harness([b], [{ name: "ops", type: "webhook", url: r.url }], b.clock);
    await h.notifier.tick();
    expect(await b.listNotifySubs(id)).toHaveLength(1);
    await h.notifier.tick();
    expect(await b.listNotifySubs(id)).toEqual([]);
    expect(r.received).toHaveLength(2);
  });

  it("two notifiers racing on one board deliver each event once", async () => {
    const b = testBoard();
    const other = openBoard({ path: b.path as string, clock: b.clock, warn: () => {} });
    cleanups.push(() => other.close());
    const r = await receiver();
    const ch: Channel = { name: "ops", type: "webhook", url: r.url };
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await watched(b));
    const one = harness([b], [ch], b.clock);
    const two = harness([other], [ch], b.clock);
    for (let round = 0; round < 5; round++) {
      for (const id of ids) await b.addComment(id, "bob", `round ${round}`);
      for (const id of ids) await b.blockTask(id, { reason: `round ${round}` });
      for (const id of ids) await b.unblockTask(id);
      await Promise.all([one.notifier.tick(), two.notifier.tick(), one.notifier.tick(), two.notifier.tick()]);
    }
    await Promise.all([one.notifier.tick(), two.notifier.tick()]);
    const got = r.received.map((x) => (x.json.event as { id: number }).id);
    expect(new Set(got).size).toBe(got.length);
    const expected: number[] = [];
    for (const id of ids)
      expected.push(
        ...(await b.listEvents(id)).filter((e) => ["blocked", "unblocked"].includes(e.kind)).map((e) => e.id),
      );
    expect([...got].sort((x, y) => x - y)).toEqual(expected.sort((x, y) => x - y));
  });

  it("a channel's URL and secret never appear in logs, delivery rows or events", async () => {
    const b = testBoard();
    const r = await receiver();
    r.answer = (x) => {
      // a hostile receiver echoing what it was sent to
      void x;
      return 500;
    };
    const dead = await deadUrl("/hook/another-secret-path-xyz");
    const id = await watched(b);
    await b.addNotifySub({ task_id: id, platform: "slack", chat_id: "dead" });
    await b.blockTask(id, { reason: "x" });
    const h = harness(
      [b],
      [
        { name: "ops", type: "webhook", url: r.url, secret: SECRET },
        { name: "dead", type: "slack", url: dead },
      ],
      b.clock,
      { maxFailures: 2 },
    );
    for (let i = 0; i < 4; i++) {
      await h.notifier.tick();
      b.clock.advance(600);
    }
    const everything = JSON.stringify({
      logs: h.logs,
      rows: await b.listNotifyDeliveries({ task_id: id }),
      events: await b.listEvents(id),
    });
    expect(everything).toContain("notify_dropped");
    for (const secret of [r.url, new URL(r.url).pathname, dead, new URL(dead).pathname, SECRET])
      expect(everything).not.toContain(secret);
  });

  it("stopping mid-batch hands the unsent events back, uncounted, to the next notifier", async () => {
    const b = testBoard();
    const r = await receiver();
    const ch: Channel = { name: "ops", type: "webhook", url: r.url };
    const id = await watched(b);
    await b.blockTask(id, { reason: "one" });
    await b.unblockTask(id);
    await b.blockTask(id, { reason: "two" });
    const sent: number[] = [];
    const first = new Notifier<{ slug: string }>({
      targets: async () => [{ slug: "default" }],
      open: async () => b,
      done: () => {},
      settings: () => harness([b], [ch], b.clock).settings,
      clock: b.clock,
      log: () => {},
      warn: () => {},
      send: async (_c, m) => {
        sent.push(m.event?.id ?? 0);
        void first.stop();
        return { outcome: "delivered", status: 200, error: null, duration_ms: 1 };
      },
    });
    await first.tick();
    expect(sent).toHaveLength(1);
    const next = harness([b], [ch], b.clock);
    expect((await next.notifier.tick()).delivered).toBe(2);
    const rest = r.received.map((x) => (x.json.event as { id: number }).id);
    const all = (await b.listEvents(id)).filter((e) => ["blocked", "unblocked"].includes(e.kind)).map((e) => e.id);
    expect([...sent, ...rest]).toEqual(all);
    expect((await b.notifyFailureStreak({ task_id: id, platform: "webhook", chat_id: "ops" })).failures).toBe(0);
  });

  it("does nothing when disabled or without channels", async () => {
    const b = testBoard();
    const r = await receiver();
    const id = await watched(b);
    await b.blockTask(id, { reason: "x" });
    const off = harness([b], [{ name: "ops", type: "webhook", url: r.url }], b.clock, { enabled: false });
    expect((await off.notifier.tick()).delivered).toBe(0);
    const none = harness([b], [], b.clock);
    expect((await none.notifier.tick()).delivered).toBe(0);
    expect(r.received).toHaveLength(0);
  });
});
