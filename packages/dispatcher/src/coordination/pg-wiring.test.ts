import fs from "node:fs";
import {
  advisoryLockKey,
  boardSchemaName,
  dispatcherLockPath,
  dispatcherStatusPath,
  type KanbanPostgres,
  migrateBoardSchema,
  openPostgres,
  PG_LOCK_CLASS,
} from "@kanban/db";
import { createTestPgDatabase, type TestPgDatabase } from "@kanban/db/testing-pg";
import { listPgDispatchers, nudgePgDispatchers } from "@kanban/kernel";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { fakeProfile, killAll, makeHome, type TestHome, trackPool, waitFor } from "../../test/helpers.ts";
import { createDispatcher } from "../dispatcher.ts";
import { PgCoordination } from "./postgres.ts";

/**
 * The dispatcher's loop wired to the PostgreSQL coordination (chosen explicitly, as the boards' engine
 * will choose it): registration, the tick lock, nudges and status go through the database, and none
 * of the SQLite home's coordination files is written. The boards themselves are SQLite files here
 * until the kernel opens boards on PostgreSQL; what is shown is the coordination's wiring.
 */
let database: TestPgDatabase;
let db: KanbanPostgres;
let home: TestHome | null = null;

beforeAll(async () => {
  database = await createTestPgDatabase();
  db = await openPostgres(database.url, { poolSize: 2 });
  await migrateBoardSchema(db, "default");
});

afterEach(async () => {
  await killAll();
  home?.cleanup();
  home = null;
});

afterAll(async () => {
  await db?.close();
  await database?.drop();
});

describe("the dispatcher on the PostgreSQL coordination", { timeout: 60_000 }, () => {
  it("skips a tick while another session holds the board's advisory lock, registers, wakes on NOTIFY, reports rows, stops cleanly", async () => {
    home = makeHome({ profiles: { coder: fakeProfile("complete") } });
    // A long interval: only a nudge can bring the second tick within the test.
    const config = home.config({ KANBAN_DISPATCH_INTERVAL: "60" });
    const coordDb = await openPostgres(database.url, { poolSize: 2 });
    const coordination = new PgCoordination({
      db: coordDb,
      ownsDb: true,
      host: config.hostname,
      pid: config.pid,
      intervalSeconds: 60,
      id: "wired",
    });
    const d = createDispatcher(config, { coordination, log: () => {} });
    trackPool(d.pool);

    // Another dispatcher (any host) ticks the board: our one-shot skips it.
    const other = await db.pool.connect();
    try {
      const key = [PG_LOCK_CLASS.dispatchTick, advisoryLockKey(boardSchemaName("default"))];
      expect((await other.query("SELECT pg_try_advisory_lock($1, $2) AS ok", key)).rows[0]).toEqual({ ok: true });
      expect((await d.once()).skipped_locked).toBe(true);
      await other.query("SELECT pg_advisory_unlock($1, $2)", key);
      expect((await d.once()).skipped_locked).toBe(false);
    } finally {
      other.release();
    }

    const running = d.run();
    try {
      const first = await waitFor(
        async () => (await listPgDispatchers(db, "default")).find((r) => r.id === "wired" && r.ticks >= 1),
        "the first tick's row",
      );
      expect(first).toMatchObject({ host: config.hostname, pid: config.pid, session_alive: true, stopped_at: null });
      expect(first.last_tick).toMatchObject({ board: "default", skipped_locked: false });

      const b = home.board();
      const task = await b.createTask({ title: "nudged", assignee: "coder" });
      expect(await nudgePgDispatchers(db, "default")).toBe(1);
      await waitFor(async () => (await b.getTask(task.id))?.status === "done", "the nudged tick to run the task");
      const row = (await listPgDispatchers(db, "default")).find((r) => r.id === "wired");
      expect(row?.ticks).toBeGreaterThanOrEqual(2);
    } finally {
      d.stop();
      await running;
    }
    const [stopped] = await listPgDispatchers(db, "default");
    expect(stopped).toMatchObject({ id: "wired", session_alive: false });
    expect(stopped?.stopped_at).not.toBeNull();
    // Nothing of the host-local coordination was used.
    expect(fs.existsSync(dispatcherStatusPath(home.home))).toBe(false);
    expect(fs.existsSync(dispatcherLockPath(home.home))).toBe(false);
  });
});
