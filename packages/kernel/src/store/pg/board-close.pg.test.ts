// PostgreSQL only: `await board.close()` resolves once every connection of the board's pool has
// ended. A service that closes a board and then drops its database (or a test, or the bench) must be
// able to wait for that: before, close() answered nothing, and a DROP DATABASE … WITH (FORCE) made
// right after terminated connections still open, which the pool then reported as errors.
import { openPostgres } from "@kanban/db";
import { createTestPgDatabase, testPostgresAdminUrl } from "@kanban/db/testing-pg";
import pg from "pg";
import { afterEach, describe, expect, it, vi } from "vitest";
import { openPgBoard } from "../../open-pg-board.ts";
import { boardInternals } from "../../testing/index.ts";

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** Every driver connection the process opens from here on, with whether its socket is closed yet. */
function watchConnections(): () => boolean[] {
  const clients: pg.Client[] = [];
  const connect = pg.Client.prototype.connect;
  vi.spyOn(pg.Client.prototype, "connect").mockImplementation(function (this: pg.Client, ...args: unknown[]) {
    clients.push(this);
    return (connect as (...a: unknown[]) => unknown).apply(this, args);
  } as never);
  return () =>
    clients.map(
      (c) => (c as unknown as { connection: { stream: { destroyed: boolean } } }).connection.stream.destroyed,
    );
}

describe("closing a PostgreSQL board", () => {
  it("resolves once its connections are gone, so its database can be dropped without FORCE", async () => {
    const db = await createTestPgDatabase("kanban_close");
    cleanup.push(async () => await db.drop());
    const closed = watchConnections();
    const board = await openPgBoard({ url: db.url, board: "closing", poolSize: 4 });
    // Several connections busy at once, so the pool holds more than one when it is closed.
    await Promise.all(Array.from({ length: 6 }, (_, i) => board.createTask({ title: `task ${i}` })));
    expect(closed().filter((gone) => !gone).length).toBeGreaterThan(1);

    await board.close();
    expect(closed()).not.toContain(false);
    const admin = await openPostgres(testPostgresAdminUrl(), { poolSize: 1, applicationName: "kanban-test-admin" });
    try {
      // Without FORCE this fails ("is being accessed by other users") while any connection is open.
      await admin.pool.query(`DROP DATABASE "${db.name}"`);
    } finally {
      await admin.close();
    }
  });

  it("waits for a transaction in flight, which commits, and answers the same promise to every call", async () => {
    const db = await createTestPgDatabase("kanban_close");
    cleanup.push(async () => await db.drop());
    const board = await openPgBoard({ url: db.url, board: "closing", poolSize: 2 });
    const order: string[] = [];
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tx = boardInternals(board).ctx.tx(async () => {
      await board.createTask({ title: "written while closing" });
      await held;
      order.push("committed");
    });
    // Let the transaction begin before the close is asked for.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const first = board.close();
    const second = board.close();
    expect(second).toBe(first);
    void first.then(() => order.push("closed"));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(order).toEqual([]);
    release();
    await tx;
    await first;
    expect(order).toEqual(["committed", "closed"]);

    const reopened = await openPgBoard({ url: db.url, board: "closing", poolSize: 1 });
    cleanup.push(async () => await reopened.close());
    expect((await reopened.listTasks({})).map((t) => t.title)).toEqual(["written while closing"]);
  });
});
