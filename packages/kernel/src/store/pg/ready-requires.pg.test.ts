// PostgreSQL only: the claim walk's routing read (readyRequires) on a board where no task requires a
// label. Before the tables' first ANALYZE (a board just filled in one go), the planner joined from
// the ready lane and probed every ready task's labels; the read is now gated on the labels table
// having any row, and reads no task at all.
import { randomBytes } from "node:crypto";
import { boardSchemaName, type KanbanPostgres, openPostgres } from "@kanban/db";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Board } from "../../board.ts";
import { pgBoard } from "../../open-pg-board.ts";
import { boardInternals, rawSql } from "../../testing/index.ts";
import { dropTestSchemaLater, testStoreUrl } from "../../testing/test-store.ts";
import { readyRequires } from "../sqlite/requires.ts";

const slug = `requires_${randomBytes(4).toString("hex")}`;
let admin: KanbanPostgres;
let board: Board;

beforeAll(async () => {
  admin = await openPostgres(testStoreUrl(), { poolSize: 1, applicationName: "kanban-test-requires" });
  board = pgBoard({ url: testStoreUrl(), board: slug, poolSize: 1, warn: () => {} });
});

afterAll(async () => {
  await board?.close();
  await admin?.close();
  dropTestSchemaLater(slug);
});

/** Scans begun on the board's `tasks` (sequential and index), after the board's connection reported its own. */
async function taskScans(): Promise<number> {
  // Statistics reach the shared counters when a backend goes idle, at most once a second unless asked.
  await rawSql(board).get("SELECT pg_stat_force_next_flush()");
  const { rows } = await admin.pool.query<{ n: string }>(
    "SELECT seq_scan + COALESCE(idx_scan, 0) AS n FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = 'tasks'",
    [boardSchemaName(slug)],
  );
  return Number(rows[0]?.n);
}

it("reads no task when no task requires a label, and finds a label once one does", async () => {
  const { ctx } = boardInternals(board);
  // Filled in one transaction and never analyzed, as a board copied or seeded in one go.
  const ids = await board.atomically(async () => {
    const made: string[] = [];
    for (let i = 0; i < 1000; i++) made.push((await board.createTask({ title: `job ${i}`, assignee: "worker" })).id);
    return made;
  });
  const before = await taskScans();
  expect(await readyRequires(ctx)).toEqual(new Map());
  expect((await taskScans()) - before).toBe(0);

  const labelled = ids[500] as string;
  await board.updateTask(labelled, { requires: ["gpu", "arm64"] });
  expect(await readyRequires(ctx)).toEqual(new Map([[labelled, ["arm64", "gpu"]]]));
  // 1,000 creates, each a round trip: about 1 s alone, and past the default 20 s once under a full
  // `npm test` beside a heavy sampler. A guard against a hang, not a speed bound.
}, 120_000);
