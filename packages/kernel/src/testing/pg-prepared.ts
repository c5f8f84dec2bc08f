import type { PoolClient } from "pg";
import { onTestFinished } from "vitest";
import { forgetPreparedAlone, type PgSession } from "../store/pg/session.ts";
import { boardInternals } from "./internals.ts";
import type { TestBoard } from "./test-board.ts";

/** The board's pool (PostgreSQL boards only). */
function poolOf(b: TestBoard) {
  const pool = (boardInternals(b).ctx.session as PgSession)["db"]?.pool;
  if (!pool) throw new Error("the board's pool is not open");
  return pool;
}

/** How many connections the board's pool has open now. */
export function openConnections(b: TestBoard): number {
  return poolOf(b).totalCount;
}

/** Every open connection of the board's pool at once (so none is left out), handed to `fn`, then released. */
export async function onEveryConnection(b: TestBoard, fn: (client: PoolClient) => Promise<unknown>): Promise<void> {
  const pool = poolOf(b);
  const clients: PoolClient[] = [];
  // Only connections that exist: the pool opens them on demand, up to its size.
  const count = pool.totalCount;
  for (let i = 0; i < count; i++) clients.push(await pool.connect());
  try {
    for (const c of clients) await fn(c);
  } finally {
    for (const c of clients) c.release();
  }
}

/**
 * Runs `fn` once per open connection of the board's pool, each time with every other one checked
 * out, so that whatever `fn` sends through the board goes on that one connection.
 */
export async function onEachConnectionInTurn(b: TestBoard, fn: () => Promise<unknown>): Promise<void> {
  const pool = poolOf(b);
  const count = pool.totalCount;
  const done = new Set<PoolClient>();
  for (let turn = 0; turn < count; turn++) {
    const clients: PoolClient[] = [];
    for (let i = 0; i < count; i++) clients.push(await pool.connect());
    // The pool hands its connections out in no fixed order: the first not given a turn yet.
    const at = clients.findIndex((c) => !done.has(c));
    const [free] = clients.splice(at, 1);
    if (free) done.add(free);
    free?.release();
    try {
      await fn();
    } finally {
      for (const c of clients) c.release();
    }
  }
}

// The session's own: its writes and reads (kanban_w_…) and the board's lock (kanban_l_…).
const PREPARED_SQL = "SELECT name FROM pg_prepared_statements WHERE from_sql AND name ~ '^kanban_[lw]_'";

/** How many of the pool's open connections hold a statement the session prepared with PREPARE. */
export async function connectionsHoldingPrepared(b: TestBoard): Promise<number> {
  let n = 0;
  await onEveryConnection(b, async (c) => {
    if ((await c.query(PREPARED_SQL)).rows.length > 0) n++;
  });
  return n;
}

/**
 * Drops every statement the session prepared with PREPARE from every open connection, as a
 * transaction pooler seems to when it runs the next message in another server session; how many.
 *
 * The pool outlives the test (one per test file), and the process still believes the statements are
 * there on the connections that did not find out: when the test is over, every connection drops what
 * it holds and the process forgets it, so the file's next test (another board on the same pool) does
 * not meet this test's pooler on whichever connection it happens to get.
 */
export async function dropPrepared(b: TestBoard): Promise<number> {
  const dropped = await deallocateAll(b);
  onTestFinished(async () => {
    await deallocateAll(b);
    await onEveryConnection(b, async (c) => forgetPreparedAlone(c));
  });
  return dropped;
}

async function deallocateAll(b: TestBoard): Promise<number> {
  let dropped = 0;
  await onEveryConnection(b, async (c) => {
    for (const { name } of (await c.query<{ name: string }>(PREPARED_SQL)).rows) {
      await c.query(`DEALLOCATE ${name}`);
      dropped++;
    }
  });
  return dropped;
}
