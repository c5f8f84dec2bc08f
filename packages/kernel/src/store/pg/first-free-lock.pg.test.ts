// PostgreSQL only: the walk's row lock (lockFirstReadyTask, FROM_FIRST_FREE_OF_IDS) probes its list
// of ids by key, in the list's order, and locks only the row it answers: a row it passes over, or one
// after the row it took, stays free for the other walks.
import { randomBytes } from "node:crypto";
import { boardSchemaName, type KanbanPostgres, openPostgres, quoteIdent } from "@kanban/db";
import type pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Board } from "../../board.ts";
import { pgBoard } from "../../open-pg-board.ts";
import { boardInternals } from "../../testing/index.ts";
import { dropTestSchemaLater, testStoreUrl } from "../../testing/test-store.ts";
import { lockFirstReadyTask } from "./shared-writers.ts";

const slug = `first_free_${randomBytes(4).toString("hex")}`;
const tasks = `${quoteIdent(boardSchemaName(slug))}.tasks`;
let admin: KanbanPostgres;
let board: Board;

beforeAll(async () => {
  admin = await openPostgres(testStoreUrl(), { poolSize: 2, applicationName: "kanban-test-first-free" });
  board = pgBoard({ url: testStoreUrl(), board: slug, poolSize: 2, warn: () => {} });
});

afterAll(async () => {
  await board?.close();
  await admin?.close();
  dropTestSchemaLater(slug);
});

/** Whether a connection outside the walk's transaction can lock the row now. */
async function free(client: pg.PoolClient, id: string): Promise<boolean> {
  const { rows } = await client.query(`SELECT id FROM ${tasks} WHERE id = $1 FOR UPDATE SKIP LOCKED`, [id]);
  return rows.length === 1;
}

it("locks the first free row in the list's order, and no other", async () => {
  const ids: string[] = [];
  for (let i = 0; i < 4; i++) ids.push((await board.createTask({ title: `job ${i}`, assignee: "w" })).id);
  const holder = await admin.pool.connect();
  const probe = await admin.pool.connect();
  try {
    // Another writer holds the list's first row; the second is no longer ready.
    await holder.query("BEGIN");
    await holder.query(`SELECT id FROM ${tasks} WHERE id = $1 FOR UPDATE`, [ids[3]]);
    await board.blockTask(ids[0] as string, { reason: "waits" });
    const { ctx } = boardInternals(board);
    await ctx.tx(async () => {
      // The list is in the walk's order, not the tasks' creation order.
      const locked = await lockFirstReadyTask(ctx, [ids[3], ids[0], ids[2], ids[1]] as string[], 0);
      expect(locked === false ? null : locked.id).toBe(ids[2]);
      // Only that row is locked: the row after it in the list, and the one passed over, are free.
      expect(await free(probe, ids[2] as string)).toBe(false);
      expect(await free(probe, ids[1] as string)).toBe(true);
      expect(await free(probe, ids[0] as string)).toBe(true);
    });
    // A list whose every row is taken or not ready locks nothing.
    await ctx.tx(async () => {
      expect(await lockFirstReadyTask(ctx, [ids[3], ids[0]] as string[], 0)).toBe(false);
    });
  } finally {
    await holder.query("ROLLBACK");
    holder.release();
    probe.release();
  }
});
