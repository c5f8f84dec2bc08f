import { randomBytes } from "node:crypto";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { boardSchemaName, migrateBoardSchema, quoteIdent } from "./pg-board-schema.ts";
import { type KanbanPostgres, openPostgres } from "./pg-connection.ts";
import {
  eventsAnnouncementSql,
  openPgEventListener,
  type PgBoardEventHandler,
  type PgEventListener,
  parseEventNotification,
} from "./pg-listen.ts";
import { rawListener } from "./test/raw-listener.ts";
import { createTestPgDatabase, type TestPgDatabase, testPostgresAdminUrl } from "./testing-pg.ts";

/**
 * Live events on a real PostgreSQL: the announcement a writer sends after writing events (one tiny
 * NOTIFY naming the board's schema and newest event id; the kernel's session decides when), and the
 * listener (one dedicated LISTEN connection that survives its backend being killed, or a poll-only
 * mode that never LISTENs).
 */

let database: TestPgDatabase;
let db: KanbanPostgres;
/** A login role of this file's own, so a test can refuse its logins without touching the admin's. */
const role = `kanban_listen_${randomBytes(4).toString("hex")}`;
const rolePassword = `pw-${randomBytes(12).toString("hex")}`;
let roleUrl: string;

beforeAll(async () => {
  database = await createTestPgDatabase();
  db = await openPostgres(database.url);
  await db.pool.query(`CREATE ROLE ${quoteIdent(role)} LOGIN PASSWORD '${rolePassword}'`);
  const u = new URL(database.url);
  u.username = role;
  u.password = rolePassword;
  roleUrl = u.toString();
  for (const slug of ["alpha", "beta", "bulk", "empty", "down", "poll-a", "poll-b"]) await migrateBoardSchema(db, slug);
  for (const schema of ["kanban_poll-a", "kanban_poll-b"]) {
    await db.pool.query(`GRANT USAGE ON SCHEMA ${quoteIdent(schema)} TO ${quoteIdent(role)}`);
    await db.pool.query(`GRANT SELECT ON ALL TABLES IN SCHEMA ${quoteIdent(schema)} TO ${quoteIdent(role)}`);
  }
});

afterAll(async () => {
  await db?.close();
  await database?.drop();
  // The role is cluster-wide: dropped after the database that it connected to is gone.
  const admin = await openPostgres(testPostgresAdminUrl(), { poolSize: 1 }).catch(() => null);
  await admin?.pool.query(`DROP ROLE IF EXISTS ${quoteIdent(role)}`).catch(() => {});
  await admin?.close();
});

/** Inserts `n` events into a board in ONE statement, without announcing them; returns the ids. */
async function insertSilently(slug: string, n: number): Promise<number[]> {
  const { rows } = await db.pool.query<{ id: number }>(
    `INSERT INTO ${quoteIdent(boardSchemaName(slug))}.task_events (task_id, kind, created_at)
     SELECT 't' || g, 'commented', 1 FROM generate_series(1, $1::int) AS g RETURNING id`,
    [n],
  );
  return rows.map((r) => r.id).sort((a, b) => a - b);
}

/** Inserts `n` events into a board and announces them, as a writer does; returns the ids. */
async function insertEvents(slug: string, n: number): Promise<number[]> {
  const ids = await insertSilently(slug, n);
  await db.pool.query(eventsAnnouncementSql(boardSchemaName(slug)));
  return ids;
}

async function maxEventId(slug: string): Promise<number> {
  const { rows } = await db.pool.query<{ id: number | null }>(
    `SELECT max(id) AS id FROM ${quoteIdent(boardSchemaName(slug))}.task_events`,
  );
  return rows[0]?.id ?? 0;
}

/** Resolves when `check` holds, polling; fails with `what` after `ms` (a bound on a hang, not a speed assertion). */
async function waitFor(check: () => boolean | Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A subscriber that records what it hears. */
function recorder(): PgBoardEventHandler & { events: number[]; resyncs: number } {
  const r = {
    events: [] as number[],
    resyncs: 0,
    onEvent(id: number) {
      r.events.push(id);
    },
    onResync() {
      r.resyncs++;
    },
  };
  return r;
}

describe("announcing a board's events", () => {
  it("sends one notification with the schema and the board's newest event id; an INSERT alone wakes no one", async () => {
    const raw = await rawListener(database.url);
    try {
      // drizzle-pg 0012 dropped the trigger of 0002 that notified for every INSERT statement.
      const { rows } = await db.pool.query(
        "SELECT tgname FROM pg_trigger WHERE tgrelid = 'kanban_bulk.task_events'::regclass AND NOT tgisinternal",
      );
      expect(rows).toEqual([]);
      const silent = await insertSilently("bulk", 500);
      // A board without events announces nothing.
      await db.pool.query(eventsAnnouncementSql(boardSchemaName("empty")));
      // A one-row insert announced after them: notifications arrive in commit order, so once this
      // one is here, anything sent before it is too.
      const [sentinel] = await insertEvents("bulk", 1);
      expect(sentinel).toBeGreaterThan(silent[499] ?? Number.POSITIVE_INFINITY);
      await waitFor(() => raw.payloads.some((p) => parseEventNotification(p)?.id === sentinel), "the sentinel");
      expect(raw.payloads.map(parseEventNotification)).toEqual([{ schema: "kanban_bulk", id: sentinel }]);
    } finally {
      await raw.end();
    }
  });

  it("keeps the payload tiny for the longest slug and the largest id", async () => {
    const slug = `${"z".repeat(59)}-long`; // 64 characters, the most a slug may have: hashed down to a 63-byte schema name
    const { schema } = await migrateBoardSchema(db, slug);
    expect(schema).toHaveLength(63);
    const raw = await rawListener(database.url);
    try {
      await db.pool.query(
        `INSERT INTO ${quoteIdent(schema)}.task_events (id, task_id, kind, created_at) VALUES (9223372036854775807, 't', 'k', 1)`,
      );
      await db.pool.query(eventsAnnouncementSql(schema));
      await waitFor(() => raw.payloads.length > 0, "the notification");
      const payload = raw.payloads[0] ?? "";
      expect(payload).toBe(`{"schema":${JSON.stringify(schema)},"id":9223372036854775807}`);
      expect(Buffer.byteLength(payload)).toBeLessThanOrEqual(101);
      // An id past 2^53 cannot be told exactly as a JS number: the listener ignores it rather than round it.
      expect(parseEventNotification(payload)).toBeNull();
    } finally {
      await raw.end();
    }
  });

  it("an announcement inside a transaction is delivered at its commit, and never if it rolls back", async () => {
    const raw = await rawListener(database.url);
    const client = await db.pool.connect();
    try {
      await client.query("BEGIN");
      await client.query(
        `INSERT INTO "kanban_beta".task_events (task_id, kind, created_at) VALUES ('t', 'rolled-back', 1)`,
      );
      await client.query(eventsAnnouncementSql("kanban_beta"));
      await client.query("ROLLBACK");
      await client.query("BEGIN");
      const [kept] = await insertSilently("beta", 1);
      await client.query(eventsAnnouncementSql("kanban_beta"));
      const [sentinel] = await insertEvents("beta", 1);
      await waitFor(() => raw.payloads.length > 0, "the sentinel");
      // The open transaction's announcement is not out yet; the sentinel's (committed since) is.
      expect(raw.payloads.map(parseEventNotification)).toEqual([{ schema: "kanban_beta", id: sentinel }]);
      await client.query("COMMIT");
      await waitFor(() => raw.payloads.length > 1, "the committed announcement");
      expect(kept).toBeLessThan(sentinel ?? 0);
      expect(raw.payloads.map(parseEventNotification)[1]?.schema).toBe("kanban_beta");
    } finally {
      client.release();
      await raw.end();
    }
  });

  it("parses only our payloads", () => {
    expect(parseEventNotification('{"schema":"kanban_a","id":7}')).toEqual({ schema: "kanban_a", id: 7 });
    for (const bad of [
      undefined,
      "",
      "7",
      "not json",
      '{"schema":"kanban_a"}',
      '{"schema":"","id":1}',
      '{"schema":"a","id":-1}',
      '{"schema":"a","id":1.5}',
    ]) {
      expect(parseEventNotification(bad)).toBeNull();
    }
  });
});

describe("the listener (LISTEN on one dedicated connection)", () => {
  it("tells a board's subscribers of its events and nobody else's", async () => {
    const listener = await openPgEventListener(database.url);
    try {
      const a = recorder();
      const b = recorder();
      listener.subscribe("alpha", a);
      listener.subscribe("beta", b);
      const [idA] = await insertEvents("alpha", 1);
      const [idB] = await insertEvents("beta", 1);
      // Commit order is delivery order: once B has heard of its insert, A's notification has arrived too.
      await waitFor(() => b.events.includes(idB as number), "beta's event");
      expect(a.events).toEqual([idA]);
      expect(b.events).toEqual([idB]);
      // Its connection is a LISTEN of its own, not a pooled one, and named for operators.
      const { rows } = await db.pool.query<{ application_name: string }>(
        "SELECT application_name FROM pg_stat_activity WHERE pid = $1",
        [listener.backendPid],
      );
      expect(rows).toEqual([{ application_name: "kanban-listen" }]);
    } finally {
      await listener.close();
    }
  });

  it("stops calling a subscriber that unsubscribed, and close() ends its connection", async () => {
    const listener = await openPgEventListener(database.url, { applicationName: "kanban-listen-close" });
    const gone = recorder();
    const kept = recorder();
    const unsubscribe = listener.subscribe("alpha", gone);
    listener.subscribe("alpha", kept);
    unsubscribe();
    const [id] = await insertEvents("alpha", 1);
    await waitFor(() => kept.events.includes(id as number), "the kept subscriber's event");
    expect(gone.events).toEqual([]);
    await listener.close();
    await waitFor(async () => {
      const { rows } = await db.pool.query(
        "SELECT 1 FROM pg_stat_activity WHERE application_name = 'kanban-listen-close'",
      );
      return rows.length === 0;
    }, "the listener's backend to go");
  });

  it("reconnects after its backend is killed, tells subscribers to re-read, and the event committed meanwhile is found", async () => {
    const warnings: string[] = [];
    const listener = await openPgEventListener(roleUrl, {
      reconnectMinMs: 20,
      reconnectMaxMs: 100,
      warn: (m) => warnings.push(m),
    });
    try {
      const sub = recorder();
      let cursor = await maxEventId("down");
      const reread: number[] = [];
      listener.subscribe("down", {
        onEvent: (id) => sub.onEvent(id),
        onResync: () => {
          sub.onResync();
          // What a real subscriber does: read everything after its cursor.
          void maxEventId("down").then((max) => {
            if (max > cursor) reread.push(max);
            cursor = Math.max(cursor, max);
          });
        },
      });
      const firstPid = listener.backendPid;
      expect(firstPid).toBeGreaterThan(0);

      // Refuse the role's new logins, then kill the listening backend: the listener is down, retrying.
      await db.pool.query(`ALTER ROLE ${quoteIdent(role)} NOLOGIN`);
      const killed = await db.pool.query<{ ok: boolean }>("SELECT pg_terminate_backend($1) AS ok", [firstPid]);
      expect(killed.rows[0]?.ok).toBe(true);
      await waitFor(() => warnings.some((w) => w.includes("failed")), "a failed reconnect attempt");
      expect(listener.backendPid).toBeNull();

      // Committed while nobody listens: its notification is lost for good.
      const [missed] = await insertEvents("down", 1);
      await db.pool.query(`ALTER ROLE ${quoteIdent(role)} LOGIN`);
      await waitFor(() => reread.includes(missed as number), "the re-read after the reconnect");
      expect(sub.resyncs).toBe(1);
      expect(sub.events).not.toContain(missed);
      expect(listener.reconnects).toBe(1);
      expect(listener.backendPid).not.toBe(firstPid);
      expect(listener.backendPid).toBeGreaterThan(0);

      // Listening again on the new connection.
      const [after] = await insertEvents("down", 1);
      await waitFor(() => sub.events.includes(after as number), "an event after the reconnect");

      // One line per loss and per outage, never the password.
      expect(warnings.length).toBeGreaterThanOrEqual(2);
      for (const w of warnings) {
        expect(w).not.toContain(rolePassword);
        expect(w).not.toMatch(/\n/);
      }
      expect(warnings[0]).toMatch(/lost the listening connection/);
    } finally {
      await db.pool.query(`ALTER ROLE ${quoteIdent(role)} LOGIN`);
      await listener.close();
    }
  });

  it("drops a connection that stopped answering (half-open: no error, no FIN) after a missed heartbeat, and reconnects", async () => {
    // A loopback proxy in front of the server that can go silent on its open connections, as a dead
    // network does: bytes stop flowing both ways, and nobody closes anything.
    const target = new URL(database.url);
    const open: { client: net.Socket; upstream: net.Socket }[] = [];
    const frozen = new Set<(typeof open)[number]>();
    const proxy = net.createServer((client) => {
      const upstream = net.connect(Number(target.port || 5432), target.hostname);
      const pair = { client, upstream };
      open.push(pair);
      client.on("data", (d) => {
        if (!frozen.has(pair)) upstream.write(d);
      });
      upstream.on("data", (d) => {
        if (!frozen.has(pair)) client.write(d);
      });
      const end = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on("error", end).on("close", end);
      upstream.on("error", end).on("close", end);
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    const viaProxy = new URL(database.url);
    viaProxy.hostname = "127.0.0.1";
    viaProxy.port = String((proxy.address() as net.AddressInfo).port);
    const warnings: string[] = [];
    const listener = await openPgEventListener(viaProxy.toString(), {
      heartbeatMs: 50,
      heartbeatTimeoutMs: 1_000,
      reconnectMinMs: 20,
      reconnectMaxMs: 100,
      warn: (m) => warnings.push(m),
    });
    try {
      const sub = recorder();
      listener.subscribe("alpha", sub);
      // Silence every connection open now (the listener's); later ones flow.
      for (const p of open) frozen.add(p);
      const [missed] = await insertEvents("alpha", 1);
      await waitFor(() => sub.resyncs === 1, "the re-read after the heartbeat missed");
      expect(sub.events).not.toContain(missed);
      expect(listener.reconnects).toBe(1);
      expect(warnings[0]).toMatch(/did not answer a heartbeat/);
      const [after] = await insertEvents("alpha", 1);
      await waitFor(() => sub.events.includes(after as number), "an event on the new connection");
    } finally {
      await listener.close();
      for (const p of open) p.client.destroy();
      await new Promise((r) => proxy.close(r));
    }
  });

  it("refuses to open on a wrong password with one typed, password-free line", async () => {
    const u = new URL(roleUrl);
    u.password = "wrong-secret-xyz";
    const err = await openPgEventListener(u.toString()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "DB_AUTH_FAILED" });
    expect((err as Error).message).not.toContain("wrong-secret-xyz");
    expect((err as Error).message).not.toContain(rolePassword);
  });
});

describe("poll-only mode (for a transaction-pooling proxy)", () => {
  it("delivers each board's new events by polling, and never runs LISTEN", async () => {
    const app = `kanban-poll-${randomBytes(3).toString("hex")}`;
    const pool = await openPostgres(roleUrl, { poolSize: 1, applicationName: app });
    // Every statement the listener sends, seen on its way to the real server.
    const sent: string[] = [];
    const query = pool.pool.query.bind(pool.pool) as (...args: unknown[]) => unknown;
    (pool.pool as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      sent.push(typeof args[0] === "string" ? args[0] : JSON.stringify(args[0]));
      return query(...args);
    };
    const listener = await openPgEventListener(roleUrl, { mode: "poll", pollIntervalMs: 30, postgres: pool });
    try {
      expect(listener.mode).toBe("poll");
      expect(listener.backendPid).toBeNull();
      const a = recorder();
      const b = recorder();
      listener.subscribe("poll-a", a);
      listener.subscribe("poll-b", b);
      // The first poll tells each subscriber of its board's newest id (none yet: nothing).
      await waitFor(() => sent.length >= 2, "the first poll");
      const [idA] = await insertEvents("poll-a", 3).then((ids) => ids.slice(-1));
      await waitFor(() => a.events.includes(idA as number), "poll-a's event");
      const [idB] = await insertEvents("poll-b", 1);
      await waitFor(() => b.events.includes(idB as number), "poll-b's event");
      expect(a.events).toEqual([idA]);
      expect(b.events).toEqual([idB]);

      expect(sent.length).toBeGreaterThan(0);
      expect(sent.filter((s) => /\bLISTEN\b/i.test(s))).toEqual([]);
      // The server agrees: the poller's one session last ran a poll, not a LISTEN.
      const { rows } = await db.pool.query<{ query: string }>(
        "SELECT query FROM pg_stat_activity WHERE application_name = $1",
        [app],
      );
      expect(rows).toHaveLength(1);
      expect(rows[0]?.query).toMatch(/max\(id\)/);
    } finally {
      await listener.close();
      await pool.close();
    }
  });

  it("opens a pool of one connection of its own when given none, and closes it", async () => {
    const listener: PgEventListener = await openPgEventListener(database.url, {
      mode: "poll",
      pollIntervalMs: 30,
      applicationName: "kanban-poll-own",
    });
    const sub = recorder();
    listener.subscribe("alpha", sub);
    const [id] = await insertEvents("alpha", 1);
    await waitFor(() => sub.events.includes(id as number), "the polled event");
    await listener.close();
    await waitFor(async () => {
      const { rows } = await db.pool.query("SELECT 1 FROM pg_stat_activity WHERE application_name = 'kanban-poll-own'");
      return rows.length === 0;
    }, "the poller's connection to close");
  });
});
