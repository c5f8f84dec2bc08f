import { randomBytes } from "node:crypto";
import {
  boardSchemaName,
  eventsAnnouncementSql,
  type KanbanPostgres,
  migrateBoardSchema,
  openPgEventListener,
  openPostgres,
  quoteIdent,
} from "@kanban/db";
import { startTestPostgres, type TestPostgresServer, withDatabase } from "@kanban/db/testing-pg";
import type { LiveEventRow } from "@kanban/kernel";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LiveHub } from "./hub.ts";
import type { LiveEvent } from "./queue.ts";
import type { LiveBoardReader } from "./watcher.ts";

/**
 * The live stream of a PostgreSQL board end to end, on a real server: a write through another
 * connection (another API replica, a dispatcher) wakes this process's watcher through the NOTIFY
 * the writer sends after it (`eventsAnnouncementSql`; the kernel's session sends it, coalesced), with
 * every poll timer set to an hour, so nothing else could have read it. The board is read and written
 * with plain SQL here.
 */

const HOUR = 3_600_000;
const SLUG = "live";
const S = quoteIdent(boardSchemaName(SLUG));

let server: TestPostgresServer;
let url: string;
let db: KanbanPostgres;
/** Another process's connection: the writer. */
let other: KanbanPostgres;

beforeAll(async () => {
  server = await startTestPostgres();
  const admin = await openPostgres(server.adminUrl, { poolSize: 1 });
  const name = `kanban_live_${randomBytes(5).toString("hex")}`;
  await admin.pool.query(`CREATE DATABASE ${quoteIdent(name)} ENCODING 'UTF8' TEMPLATE template0`);
  await admin.close();
  url = withDatabase(server.adminUrl, name);
  db = await openPostgres(url);
  other = await openPostgres(url, { poolSize: 1, applicationName: "kanban-other-replica" });
  await migrateBoardSchema(db, SLUG);
  await db.pool.query(
    `INSERT INTO ${S}.tasks (id, title, status, created_at, tenant) VALUES ('t1', 'x', 'ready', 1, 'acme')`,
  );
}, 60_000);

afterAll(async () => {
  await other?.close();
  await db?.close();
  await server?.stop();
});

/** The two reads a watcher makes, in SQL (what the kernel's PostgreSQL store will do). */
const reader: LiveBoardReader = {
  async latestEventId() {
    const { rows } = await db.pool.query<{ id: number }>(`SELECT coalesce(max(id), 0) AS id FROM ${S}.task_events`);
    return rows[0]?.id ?? 0;
  },
  async liveEventRows(afterId, limit) {
    const { rows } = await db.pool.query<LiveEventRow>(
      `SELECT e.id, e.task_id, e.run_id, e.kind, e.payload, e.created_at, t.tenant, t.assignee
         FROM ${S}.task_events e LEFT JOIN ${S}.tasks t ON t.id = e.task_id
        WHERE e.id > $1 ORDER BY e.id LIMIT $2`,
      [afterId, limit],
    );
    return rows;
  },
};

async function writeElsewhere(kind: string): Promise<number> {
  const { rows } = await other.pool.query<{ id: number }>(
    `INSERT INTO ${S}.task_events (task_id, kind, created_at) VALUES ('t1', $1, 1) RETURNING id`,
    [kind],
  );
  await other.pool.query(eventsAnnouncementSql(boardSchemaName(SLUG)));
  return rows[0]?.id as number;
}

async function take(queue: { take(): Promise<LiveEvent[] | "overflow" | null> }): Promise<LiveEvent[]> {
  const got = await queue.take();
  if (!Array.isArray(got)) throw new Error(`expected events, got ${String(got)}`);
  return got;
}

describe("a PostgreSQL board's live stream", () => {
  it("a write by another connection wakes the watcher through NOTIFY, and again after the listener's backend is killed", async () => {
    const listener = await openPgEventListener(url, { reconnectMinMs: 20, reconnectMaxMs: 100, warn: () => {} });
    const hub = new LiveHub({ intervalMs: HOUR, backstopMs: HOUR, pgEvents: listener });
    try {
      const sub = await hub.pgWatcher(SLUG, () => reader).subscribe();
      const id = await writeElsewhere("commented");
      const got = await take(sub.queue);
      expect(got.map((e) => [e.id, e.kind, e.tenant])).toEqual([[id, "commented", "acme"]]);

      // The listener's connection dies; a write lands around the reconnect. Either its notification
      // (if the new LISTEN came first) or the reconnect's re-read delivers it.
      await db.pool.query("SELECT pg_terminate_backend($1)", [listener.backendPid]);
      const during = await writeElsewhere("blocked");
      const next: LiveEvent[] = [];
      while (!next.some((e) => e.id === during)) next.push(...(await take(sub.queue)));
      expect(next.map((e) => e.id)).toEqual([during]);
      // Listening again: the next write arrives by notification.
      const after = await writeElsewhere("unblocked");
      expect((await take(sub.queue)).map((e) => e.id)).toEqual([after]);
      expect(listener.reconnects).toBe(1);
      sub.close();
    } finally {
      hub.close();
      await listener.close();
    }
  });

  it("poll-only mode (behind a transaction-pooling proxy) delivers the same writes without LISTEN", async () => {
    const listener = await openPgEventListener(url, { mode: "poll", pollIntervalMs: 30, postgres: db });
    const hub = new LiveHub({ intervalMs: HOUR, backstopMs: HOUR, pgEvents: listener });
    try {
      const sub = await hub.pgWatcher(SLUG, () => reader).subscribe();
      const id = await writeElsewhere("commented");
      expect((await take(sub.queue)).map((e) => e.id)).toEqual([id]);
      // No connection of its own: it polled through the board's pool (pg-listen.test.ts proves no LISTEN ran).
      expect(listener.backendPid).toBeNull();
      sub.close();
    } finally {
      hub.close();
      await listener.close();
    }
  });
});
