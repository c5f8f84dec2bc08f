import os from "node:os";
import fs from "node:fs";
import path from "node:path";
import { type KanbanPostgres, migrateBoardSchema, openPostgres } from "@kanban/db";
import { createTestPgDatabase, type TestPgDatabase } from "@kanban/db/testing-pg";
import { listPgDispatchers, pgDispatcherEntries } from "@kanban/kernel";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { fakeProfile, killAll, makeHome, type TestHome, trackPool, waitFor } from "../../test/helpers.ts";
import { PgCoordination } from "../coordination/postgres.ts";
import { createDispatcher } from "../dispatcher.ts";

/**
 * On PostgreSQL the dispatcher's status is its row in the board's `kanban_dispatchers`: the holds,
 * host cap, containment and footprints ride in the row's `last_tick` JSON (no column added), for
 * the API's readers on any host.
 */
let database: TestPgDatabase;
let db: KanbanPostgres;
let home: TestHome | null = null;
const dirs: string[] = [];

beforeAll(async () => {
  database = await createTestPgDatabase();
  db = await openPostgres(database.url, { poolSize: 2 });
  await migrateBoardSchema(db, "default");
});

afterEach(async () => {
  await killAll();
  home?.cleanup();
  home = null;
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

afterAll(async () => {
  await db?.close();
  await database?.drop();
});

describe("admission and containment in the PostgreSQL status rows", { timeout: 60_000 }, () => {
  it("a held card, the host cap and the containment are in the dispatcher's row for the board", async () => {
    const hostDir = fs.mkdtempSync(path.join(os.tmpdir(), "kanban-host-"));
    dirs.push(hostDir);
    home = makeHome({
      kanban: {
        memory_floor_mb: 64 * 1024 * 1024,
        max_workers_host: 4,
        host_state_dir: hostDir,
        containment: "process-tree",
      },
      profiles: { coder: fakeProfile("complete") },
    });
    const config = home.config({ KANBAN_DISPATCH_INTERVAL: "0.2" });
    const coordDb = await openPostgres(database.url, { poolSize: 2 });
    const coordination = new PgCoordination({
      db: coordDb,
      ownsDb: true,
      host: config.hostname,
      pid: config.pid,
      intervalSeconds: 0.2,
      id: "admission",
    });
    const d = createDispatcher(config, { coordination, log: () => {} });
    trackPool(d.pool);
    const held = (await home.board().createTask({ title: "held", assignee: "coder" })).id;
    const running = d.run();
    try {
      const row = await waitFor(
        async () =>
          (await listPgDispatchers(db, "default")).find(
            (r) => r.id === "admission" && ((r.last_tick as { holds?: unknown[] } | null)?.holds?.length ?? 0) > 0,
          ),
        "a row with the hold",
      );
      expect(row.last_tick).toMatchObject({
        board: "default",
        holds: [
          {
            task_id: held,
            board: "default",
            code: "memory_floor",
            detail: { floor_mb: 64 * 1024 * 1024, profile: "coder" },
          },
        ],
        host_cap: { max: 4, running: 0 },
        containment: "process-tree",
        containment_reason: 'kanban.containment is "process-tree"',
        footprints: [],
      });
      // The board's entries (what the API lists) carry the same JSON.
      const [entry] = (await pgDispatcherEntries(db, "default", Math.floor(Date.now() / 1000))).filter(
        (e) => e.id === "admission",
      );
      expect(entry?.last_tick).toMatchObject({ containment: "process-tree" });
    } finally {
      d.stop();
      await running;
    }
  });
});
