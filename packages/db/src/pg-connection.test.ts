import net from "node:net";
import util from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KanbanDbError } from "./errors.ts";
import { openPostgres } from "./pg-connection.ts";
import { createTestPgDatabase, type TestPgDatabase, withDatabase } from "./testing-pg.ts";

/**
 * openPostgres against the run's real PostgreSQL: it connects, and every way of failing to connect is
 * one typed, one-line error naming host:port/database and never the password.
 */

let database: TestPgDatabase;

beforeAll(async () => {
  database = await createTestPgDatabase();
});

afterAll(async () => {
  await database?.drop();
});

/** Rejects with a KanbanDbError, checked to be one line without any of the secrets anywhere. */
async function refusal(promise: Promise<unknown>, secrets: string[]): Promise<KanbanDbError> {
  const err = await promise.then(
    () => {
      throw new Error("expected openPostgres to refuse");
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(KanbanDbError);
  const e = err as KanbanDbError;
  expect(e.message).not.toMatch(/\n/);
  const everything = [e.message, JSON.stringify(e.details), String(e.stack), util.inspect(e, { depth: 10 })];
  for (const secret of secrets) for (const text of everything) expect(text).not.toContain(secret);
  expect((e as { cause?: unknown }).cause).toBeUndefined();
  return e;
}

function closedLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

describe("openPostgres", () => {
  it("connects with a small fixed pool and reads int8 as numbers (bigint past 2^53)", async () => {
    const db = await openPostgres(database.url, { poolSize: 2 });
    try {
      expect(db.target.database).toBe(database.name);
      expect(db.target.label).toBe(`${db.target.host}:${db.target.port}/${database.name}`);
      expect(db.serverVersion).toBeGreaterThanOrEqual(130000);
      expect(db.pool.options.max).toBe(2);
      const { rows } = await db.pool.query(
        "SELECT 42::int8 AS small, 9007199254740993::int8 AS big, count(*) AS n FROM pg_class WHERE false",
      );
      expect(rows[0]).toEqual({ small: 42, big: 9_007_199_254_740_993n, n: 0 });
      // Four queries at once on a pool of two: they queue, the pool never opens a third connection.
      const pids = await Promise.all(
        [1, 2, 3, 4].map(
          async () => (await db.pool.query("SELECT pg_backend_pid() AS pid, pg_sleep(0.05)")).rows[0].pid,
        ),
      );
      expect(new Set(pids).size).toBeLessThanOrEqual(2);
      expect(db.pool.totalCount).toBeLessThanOrEqual(2);
    } finally {
      await db.close();
    }
  });

  it("closes: resolves once every connection's socket is closed, and answers one promise to every call", async () => {
    const db = await openPostgres(database.url, { poolSize: 3 });
    const sockets: { destroyed: boolean }[] = [];
    db.pool.on("connect", (client) => {
      sockets.push((client as unknown as { connection: { stream: { destroyed: boolean } } }).connection.stream);
    });
    await Promise.all([1, 2, 3].map(() => db.pool.query("SELECT pg_sleep(0.05)")));
    expect(sockets.length).toBe(3);
    expect(sockets.some((s) => s.destroyed)).toBe(false);
    const closing = db.close();
    expect(db.close()).toBe(closing);
    await closing;
    // pg-pool's own end() resolves before the sockets close; ours waits for every one of them.
    expect(sockets.map((s) => s.destroyed)).toEqual([true, true, true]);
  });

  it("survives a checked-out connection's backend being terminated: the holder's statement fails, typed, and the pool goes on", async () => {
    const db = await openPostgres(database.url, { poolSize: 2, applicationName: "kanban-terminated" });
    const admin = await openPostgres(database.url, { poolSize: 1 });
    try {
      const client = await db.pool.connect();
      await client.query("BEGIN");
      const { rows } = await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
      const ended = new Promise((resolve) => client.once("end", resolve));
      // Held, idle in its transaction, as a verb's connection is between two of its statements.
      await admin.pool.query("SELECT pg_terminate_backend($1)", [rows[0]?.pid]);
      // Without a listener of its own the client's 'error' would have been uncaught (vitest fails the run).
      await ended;
      const err = await client.query("SELECT 1").then(
        () => null,
        (e: unknown) => db.failure(e),
      );
      expect(err).toBeInstanceOf(KanbanDbError);
      expect(err?.message).not.toMatch(/\n/);
      client.release(true);
      const again = await db.pool.query<{ one: number }>("SELECT 1 AS one");
      expect(again.rows).toEqual([{ one: 1 }]);
    } finally {
      await admin.close();
      await db.close();
    }
  });

  it("refuses a bad URL with DB_URL_INVALID, one line, without the password", async () => {
    const secret = "Sup3r-Secret-pw";
    const cases = [
      `mysql://kanban:${secret}@127.0.0.1:5432/kanban`,
      `postgres://kanban:${secret}@127.0.0.1:99999/kanban`,
      `postgres://kanban:${secret}@127.0.0.1:5432/`,
      `postgres://kanban:${secret}@127.0.0.1:5432`,
      `postgres://kanban:${secret}%zz@127.0.0.1:5432/kanban`,
      `postgres://kanban:${secret}@:5432/kanban`,
      `not a url ${secret}`,
      "",
    ];
    for (const url of cases) {
      const e = await refusal(openPostgres(url), [secret]);
      expect({ url, code: e.code }).toEqual({ url, code: "DB_URL_INVALID" });
    }
  });

  it("names host:port/database when nothing listens on the port (DB_UNREACHABLE)", async () => {
    const port = await closedLoopbackPort();
    const secret = "pw-unreachable-7f3a";
    const e = await refusal(openPostgres(`postgres://kanban:${secret}@127.0.0.1:${port}/boards`), [secret]);
    expect(e.code).toBe("DB_UNREACHABLE");
    expect(e.message).toBe(`cannot reach PostgreSQL at 127.0.0.1:${port}/boards: connection refused`);
    expect(e.details).toMatchObject({ host: "127.0.0.1", port, database: "boards" });
  });

  it("says a server that accepts the connection but never answers is DB_UNREACHABLE, and hangs up on it", async () => {
    const sockets: net.Socket[] = [];
    let closed = 0;
    const silent = net.createServer((socket) => {
      sockets.push(socket);
      socket.resume(); // read (and drop) the startup packet, so the client's hang-up is seen
      socket.on("close", () => closed++);
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const port = (silent.address() as net.AddressInfo).port;
    // A %-escaped password: neither its written nor its decoded form may appear.
    const written = "se%2Fcr%40et-91b2";
    try {
      const e = await refusal(
        openPostgres(`postgres://kanban:${written}@127.0.0.1:${port}/boards`, { connectTimeoutMs: 300 }),
        [written, decodeURIComponent(written)],
      );
      expect(e.code).toBe("DB_UNREACHABLE");
      expect(e.message).toMatch(new RegExp(`^cannot reach PostgreSQL at 127\\.0\\.0\\.1:${port}/boards: .*timeout`));
      await expect.poll(() => closed).toBe(sockets.length);
      expect(sockets.length).toBe(1);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it("says a call that waited for a pooled connection past the connect timeout is DB_BUSY, not an unreachable server", async () => {
    const db = await openPostgres(database.url, { poolSize: 1, connectTimeoutMs: 300 });
    const held = await db.pool.connect();
    try {
      const err = await db.pool.query("SELECT 1").then(
        () => {
          throw new Error("expected the query to wait past the timeout");
        },
        (e: unknown) => e,
      );
      const e = db.failure(err);
      expect(e.code).toBe("DB_BUSY");
      expect(e.message).toBe(
        `every pooled connection to PostgreSQL at ${db.target.label} stayed in use for the whole connect timeout; nothing was sent, try again`,
      );
      // The server was reachable all along: the held connection still answers.
      expect((await held.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
    } finally {
      held.release();
      await db.close();
    }
  });

  it("says a wrong password is DB_AUTH_FAILED, without the wrong or the right password", async () => {
    const right = new URL(database.url).password;
    const wrong = "Wr0ng-Passw0rd-e91c";
    const url = new URL(database.url);
    url.password = wrong;
    const e = await refusal(openPostgres(url.toString()), [wrong, right]);
    expect(e.code).toBe("DB_AUTH_FAILED");
    const target = `${url.hostname}:${url.port}/${database.name}`;
    expect(e.message).toContain(target);
    expect(e.message).toContain(`user '${decodeURIComponent(url.username)}'`);
  });

  it("says a password the server asks for and the URL lacks is DB_AUTH_FAILED", async () => {
    const right = new URL(database.url).password;
    const url = new URL(database.url);
    url.password = "";
    const e = await refusal(openPostgres(url.toString()), [right]);
    expect(e.code).toBe("DB_AUTH_FAILED");
    expect(e.message).toMatch(/asks user '.+' for a password and the URL gives none$/);
  });

  it("says a database that does not exist is DB_NOT_FOUND, naming it", async () => {
    const right = new URL(database.url).password;
    const e = await refusal(openPostgres(withDatabase(database.url, "kanban_missing_db")), [right]);
    expect(e.code).toBe("DB_NOT_FOUND");
    expect(e.message).toMatch(/has no database 'kanban_missing_db'/);
  });

  it("refuses a database that is not UTF8 after connecting, and closes every connection it opened", async () => {
    const admin = await openPostgres(database.url, { poolSize: 1 });
    const latin1 = `${database.name}_latin1`;
    try {
      await admin.pool.query(
        `CREATE DATABASE "${latin1}" ENCODING 'LATIN1' TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'`,
      );
      const e = await refusal(
        openPostgres(withDatabase(database.url, latin1), { applicationName: "kanban-refused-probe" }),
        [new URL(database.url).password],
      );
      expect(e.code).toBe("DB_UNAVAILABLE");
      expect(e.message).toMatch(/has encoding LATIN1; kanban needs UTF8/);
      // The probe's socket is destroyed at once; its server process notices the closed socket and
      // exits on its own a moment later, so wait (bounded) for the server to forget it.
      let open = -1;
      for (let i = 0; i < 100 && open !== 0; i++) {
        if (i > 0) await new Promise((resolve) => setTimeout(resolve, 50));
        const { rows } = await admin.pool.query<{ n: string }>(
          "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'kanban-refused-probe'",
        );
        open = Number(rows[0]?.n);
      }
      expect(open).toBe(0);
    } finally {
      await admin.pool.query(`DROP DATABASE IF EXISTS "${latin1}" WITH (FORCE)`);
      await admin.close();
    }
  });
});
