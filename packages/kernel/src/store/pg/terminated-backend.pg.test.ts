// PostgreSQL only: a board's connection whose backend is terminated while a transaction holds it (a
// failover, an administrator's pg_terminate_backend, a server restart). The driver reports it as an
// 'error' event on the connection, which the pool does not hear while the connection is checked out;
// unheard, it crashed the process (an API server or a dispatcher). Now the verb fails, typed and
// without writing, and the board goes on with its other connections.
import { KanbanDbError, openPostgres } from "@kanban/db";
import { createTestPgDatabase } from "@kanban/db/testing-pg";
import { afterEach, describe, expect, it } from "vitest";
import { openPgBoard } from "../../open-pg-board.ts";
import { boardInternals } from "../../testing/index.ts";

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

describe("a transaction's connection terminated under it", () => {
  it("fails the verb with a typed one-line error, writes nothing, and the board goes on", async () => {
    const database = await createTestPgDatabase();
    cleanup.push(async () => await database.drop());
    const board = await openPgBoard({ url: database.url, board: "terminated", warn: () => {} });
    cleanup.push(async () => await board.close());
    const admin = await openPostgres(database.url, { poolSize: 1 });
    cleanup.push(async () => await admin.close());
    const before = await board.createTask({ title: "before" });
    const { ctx } = boardInternals(board);
    const verb = ctx.tx(async () => {
      await board.createTask({ title: "inside the lost transaction" });
      const row = (await ctx.get("SELECT pg_backend_pid() AS pid")) as { pid: number };
      // Terminated while the transaction holds its connection between two statements.
      await admin.pool.query("SELECT pg_terminate_backend($1)", [row.pid]);
      await new Promise((resolve) => setTimeout(resolve, 200));
      await board.createTask({ title: "after the loss, same transaction" });
    });
    const err = await verb.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(KanbanDbError);
    expect((err as KanbanDbError).code).toBe("DB_UNAVAILABLE");
    expect((err as Error).message).not.toMatch(/\n/);
    // Nothing of the lost transaction was written; the board writes and reads again.
    const after = await board.createTask({ title: "after" });
    const tasks = await board.listTasks({});
    expect(tasks.map((t) => t.title).sort()).toEqual(["after", "before"]);
    expect(tasks.map((t) => t.id).sort()).toEqual([before.id, after.id].sort());
  });
});
