// PostgreSQL only (the kernel's "postgres" project runs *.pg.test.ts): a server that stops taking a
// board's writes after the board opened, as after a failover that left it on a read-only replica, or
// a privilege taken away. Each write must be refused with a typed DB_UNAVAILABLE of one line (the API
// answers 503, the CLI one line), reads must still be answered, and nothing may be half-written.
import { randomBytes } from "node:crypto";
import { boardSchemaName, type KanbanPostgres, openPostgres, quoteIdent } from "@kanban/db";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Board } from "../../board.ts";
import { pgBoard } from "../../open-pg-board.ts";
import { testStoreUrl } from "../../testing/test-store.ts";

const suffix = randomBytes(4).toString("hex");
const role = `kanban_refused_${suffix}`;
const password = randomBytes(12).toString("hex");
const slug = `refused_${suffix}`;
const schema = quoteIdent(boardSchemaName(slug));
let admin: KanbanPostgres;
let board: Board;

/** Drops the role's connections, so the pool's next one starts with the role's new settings. */
async function reconnect(): Promise<void> {
  await admin.pool.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", [role]);
  // The pool learns of a terminated idle connection from its socket: a first call may still meet it.
  for (let i = 0; i < 20; i++) {
    try {
      await board.getTask("t_none");
      return;
    } catch (err) {
      if ((err as { code?: unknown }).code !== "DB_UNREACHABLE") throw err;
    }
  }
  throw new Error("the board never reconnected");
}

async function taskCount(): Promise<number> {
  const { rows } = await admin.pool.query<{ n: number }>(`SELECT count(*) AS n FROM ${schema}.tasks`);
  return Number(rows[0]?.n);
}

beforeAll(async () => {
  admin = await openPostgres(testStoreUrl(), { poolSize: 1, applicationName: "kanban-test-refused" });
  const database = (await admin.pool.query<{ db: string }>("SELECT current_database() AS db")).rows[0]?.db ?? "";
  await admin.pool.query(`CREATE ROLE ${quoteIdent(role)} LOGIN PASSWORD '${password}'`);
  await admin.pool.query(`GRANT CREATE ON DATABASE ${quoteIdent(database)} TO ${quoteIdent(role)}`);
  const url = new URL(testStoreUrl());
  url.username = role;
  url.password = password;
  board = pgBoard({ url: url.toString(), board: slug, poolSize: 1, warn: () => {} });
});

afterAll(async () => {
  await board?.close();
  await admin.pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.pool.query(`DROP OWNED BY ${quoteIdent(role)}`);
  await admin.pool.query(`DROP ROLE IF EXISTS ${quoteIdent(role)}`);
  await admin.close();
});

it("a server that turned read-only refuses each write with DB_UNAVAILABLE in one line, and still answers reads", async () => {
  const kept = await board.createTask({ title: "written while the server took writes" });
  await admin.pool.query(`ALTER ROLE ${quoteIdent(role)} SET default_transaction_read_only = on`);
  await reconnect();

  const refused = board.createTask({ title: "written after it turned read-only" });
  await expect(refused).rejects.toMatchObject({ code: "DB_UNAVAILABLE" });
  const err = (await refused.catch((e: unknown) => e)) as Error;
  expect(err.message).toMatch(/accepts no writes \(a read-only server or session\); nothing was written/);
  expect(err.message).not.toContain("\n");
  expect(err.message).not.toContain(password);
  // A verb that writes inside a transaction of several statements is refused the same way.
  await expect(board.claimTask(kept.id)).rejects.toMatchObject({ code: "DB_UNAVAILABLE" });

  expect((await board.getTask(kept.id))?.title).toBe("written while the server took writes");
  expect(await taskCount()).toBe(1);

  // Once the server takes writes again, so does the board (no restart).
  await admin.pool.query(`ALTER ROLE ${quoteIdent(role)} RESET default_transaction_read_only`);
  await reconnect();
  await board.createTask({ title: "written once writes came back" });
  expect(await taskCount()).toBe(2);
});

it("a privilege taken away refuses the writes that need it with DB_UNAVAILABLE naming the privilege's table", async () => {
  await admin.pool.query(`REVOKE INSERT ON ${schema}.tasks FROM ${quoteIdent(role)}`);
  const refused = board.createTask({ title: "needs INSERT on tasks" });
  await expect(refused).rejects.toMatchObject({ code: "DB_UNAVAILABLE" });
  const err = (await refused.catch((e: unknown) => e)) as Error;
  expect(err.message).toMatch(
    new RegExp(`refused user '${role}' a privilege the board needs: permission denied for table tasks`),
  );
  expect(err.message).not.toContain("\n");
  expect(await taskCount()).toBe(2);
  await admin.pool.query(`GRANT INSERT ON ${schema}.tasks TO ${quoteIdent(role)}`);
  await board.createTask({ title: "INSERT granted again" });
  expect(await taskCount()).toBe(3);
});
