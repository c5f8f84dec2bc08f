// PostgreSQL only: how a board's writes wake the live-event listeners (LISTEN kanban_events). One
// notification per commit took a cluster-wide lock at every event-writing commit, so the session
// coalesces them: the first commit after a quiet gap carries one, the commits within the gap owe one,
// sent when the gap ends or when the board closes. What a listener hears is counted on a raw LISTEN.
import { randomBytes } from "node:crypto";
import { boardSchemaName, KANBAN_EVENTS_CHANNEL, parseEventNotification } from "@kanban/db";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import type { Board } from "../../board.ts";
import { pgBoard } from "../../open-pg-board.ts";
import { boardInternals, rawSql } from "../../testing/index.ts";
import { dropTestSchemaLater, testStoreUrl } from "../../testing/test-store.ts";
import type { PgSession } from "./session.ts";

const opened: { board: Board; slug: string; listener: pg.Client }[] = [];
afterEach(async () => {
  for (const { board, slug, listener } of opened.splice(0)) {
    await board.close();
    await listener.end().catch(() => {});
    dropTestSchemaLater(slug);
  }
});

/** A board with the given gap between announcements, and a raw listener that keeps what it hears. */
async function boardWithListener(announceGapMs: number) {
  const slug = `announce_${randomBytes(4).toString("hex")}`;
  const board = pgBoard({ url: testStoreUrl(), board: slug, poolSize: 3, warn: () => {}, announceGapMs });
  const listener = new pg.Client({ connectionString: testStoreUrl() });
  listener.on("error", () => {});
  await listener.connect();
  opened.push({ board, slug, listener });
  const schema = boardSchemaName(slug);
  const heard: number[] = [];
  const sentinels = new Set<string>();
  listener.on("notification", (m) => {
    if (m.channel !== KANBAN_EVENTS_CHANNEL) return;
    const n = parseEventNotification(m.payload);
    if (n?.schema === schema) heard.push(n.id);
    else if (m.payload?.startsWith("sentinel-")) sentinels.add(m.payload);
  });
  await listener.query(`LISTEN ${KANBAN_EVENTS_CHANNEL}`);
  await board.createTask({ title: "opens the board" });
  const session = boardInternals(board).ctx.session as unknown as PgSession;
  /**
   * Every notification committed before this call has reached the listener once it returns:
   * PostgreSQL delivers notifications in commit order, and a sentinel is sent after them.
   */
  const settle = async () => {
    const sentinel = `sentinel-${randomBytes(4).toString("hex")}`;
    await listener.query("SELECT pg_notify($1, $2)", [KANBAN_EVENTS_CHANNEL, sentinel]);
    await waitFor(() => sentinels.has(sentinel), "the sentinel");
  };
  const lastEventId = async () =>
    Number((await rawSql(board).get<{ id: number }>("SELECT max(id) AS id FROM task_events"))?.id);
  return { board, heard, settle, session, lastEventId };
}

async function waitFor(check: () => boolean, what: string, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("live-event announcements of a PostgreSQL board", () => {
  it("the first commit after a quiet gap carries one; the commits within the gap owe one, sent when the board closes", async () => {
    // A gap no test waits out: whatever is heard was carried by a commit or sent by close().
    const { board, heard, settle, session, lastEventId } = await boardWithListener(3_600_000);
    await settle();
    // The board's first commit with events (the create that opened it) carried the announcement.
    const first = await lastEventId();
    expect(heard).toEqual([first]);
    for (let i = 0; i < 20; i++) await board.createTask({ title: `burst ${i}` });
    const top = await lastEventId();
    expect(top).toBeGreaterThan(20);
    await settle();
    expect(heard).toEqual([first]);
    expect(session.announcer.announced).toBe(1);

    await board.close();
    await waitFor(() => heard.length === 2, "the owed announcement");
    // One notification for the twenty commits, naming the newest event.
    expect(heard).toEqual([first, top]);
  });

  it("a quiet board is announced at each commit, and listeners hear every write", async () => {
    const { board, heard, settle, lastEventId } = await boardWithListener(0);
    for (let i = 0; i < 5; i++) {
      await board.createTask({ title: `quiet ${i}` });
      const top = await lastEventId();
      await settle();
      expect(heard.at(-1)).toBe(top);
    }
  });

  it("a claim and a completion sent as one message each are announced with their COMMIT", async () => {
    const { board, heard, settle, lastEventId } = await boardWithListener(0);
    for (let i = 0; i < 2; i++) await board.createTask({ title: `job ${i}`, assignee: "bench" });
    const lane = board.readyLane();
    // The lane's first read goes the full way; the second claim is one message (claim-next.ts claimAlone).
    expect((await board.claimNext(lane, { claimer: "w:1" })).claimed).toHaveLength(1);
    const task = (await board.claimNext(lane, { claimer: "w:1" })).claimed[0]?.task;
    if (!task) throw new Error("nothing claimed");
    await settle();
    expect(heard.at(-1)).toBe(await lastEventId());
    await board.completeTask(task.id, { summary: "ok", expected_run_id: task.current_run_id });
    await settle();
    const completed = await rawSql(board).get<{ id: number }>(
      "SELECT id FROM task_events WHERE task_id = ? AND kind = 'completed'",
      task.id,
    );
    expect(heard.at(-1)).toBe(Number(completed?.id));
  });

  it("a rolled-back transaction announces nothing, and neither does a commit without events", async () => {
    const { board, heard, settle, session } = await boardWithListener(0);
    await settle();
    const before = heard.length;
    const { ctx } = boardInternals(board);
    await expect(
      ctx.tx(async () => {
        await ctx.insert(
          "INSERT INTO task_events (task_id, kind, payload, created_at) VALUES (?, 'commented', NULL, 1)",
          "t_x",
        );
        throw new Error("changed its mind");
      }),
    ).rejects.toThrow("changed its mind");
    await rawSql(board).run("UPDATE tasks SET priority = priority + 1");
    await settle();
    expect(heard.length).toBe(before);
    expect(session.announcer.announced).toBe(before);
  });

  it("an event written outside any transaction is announced on its own, after the gap", async () => {
    const { board, heard, settle, lastEventId } = await boardWithListener(50);
    await settle();
    const before = heard.length;
    const { ctx } = boardInternals(board);
    await ctx.run("INSERT INTO task_events (task_id, kind, payload, created_at) SELECT 't_y', 'commented', NULL, 1");
    const top = await lastEventId();
    await waitFor(() => heard.length > before, "the announcement of a statement outside a transaction");
    expect(heard.at(-1)).toBe(top);
  });
});
