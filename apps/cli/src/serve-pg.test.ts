import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { createKanbanClient } from "@kanban/api/client";
import { openPostgres } from "@kanban/db";
import { createTestPgDatabase, type TestPgDatabase } from "@kanban/db/testing-pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createdId, runBinary, type SpawnResult, startBinary, type TempHome, tempHome } from "./testing/harness.ts";

/**
 * Selecting PostgreSQL (issue 14): KANBAN_DATABASE_URL, or config.json's "database", puts the real
 * `kanban serve` and the CLI's local mode on a real PostgreSQL; a URL that cannot be used stops the
 * server before it listens, in one password-free line.
 */
let db: TestPgDatabase;
let password: string;
const homes: TempHome[] = [];

function home(config?: Record<string, unknown>): TempHome {
  const h = tempHome(config);
  homes.push(h);
  return h;
}

beforeAll(async () => {
  db = await createTestPgDatabase("kanban_cli_serve");
  password = decodeURIComponent(new URL(db.url).password);
  expect(password.length).toBeGreaterThan(8);
}, 120_000);

afterAll(async () => {
  for (const h of homes) h.cleanup();
  await db?.drop();
});

/** A loopback port nothing listens on (bound, then released). */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      srv.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/** Whether something accepts connections on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** The board's rows as another connection sees them (not through the server). */
async function titlesInDatabase(schema = "kanban_default"): Promise<string[]> {
  const pg = await openPostgres(db.url, { poolSize: 1 });
  try {
    const { rows } = await pg.pool.query<{ title: string }>(`SELECT title FROM "${schema}".tasks ORDER BY rowid`);
    return rows.map((r) => r.title);
  } finally {
    await pg.close();
  }
}

/** This database's connections per application_name (the server's pool, its listener). */
async function connectionsByApplication(): Promise<Record<string, number>> {
  const pg = await openPostgres(db.url, { poolSize: 1, applicationName: "kanban-test-probe" });
  try {
    const { rows } = await pg.pool.query<{ application_name: string; n: number }>(
      "SELECT application_name, count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() GROUP BY 1",
      [db.name],
    );
    return Object.fromEntries(rows.map((r) => [r.application_name, r.n]));
  } finally {
    await pg.close();
  }
}

function expectNoSecret(...outputs: string[]): void {
  for (const text of outputs) {
    expect(text).not.toContain(password);
    expect(text).not.toContain(encodeURIComponent(password));
  }
}

describe("kanban serve on KANBAN_DATABASE_URL", () => {
  it("serves a board in PostgreSQL: an HTTP create is read back and is in the database; a write by another process reaches an SSE subscriber", async () => {
    const h = home();
    const env = { ...h.env, KANBAN_DATABASE_URL: db.url };
    const server = startBinary(["serve", "--port", "0"], env);
    try {
      const [, url] = await server.waitFor(
        /Serving the kanban API at (http:\/\/127\.0\.0\.1:\d+)\/trpc \(([^)]*)\)/,
        30_000,
      );
      const pgUrl = new URL(db.url);
      expect(server.stdout()).toContain(`boards on postgres://127.0.0.1:${pgUrl.port}/${db.name})`);
      const api = createKanbanClient({ url: `${url}/trpc` });
      const { task } = await api.tasks.create.mutate({ title: "made over HTTP", assignee: "coder" });
      const shown = await api.tasks.get.query({ id: task.id });
      expect(shown.task.title).toBe("made over HTTP");
      expect(await titlesInDatabase()).toEqual(["made over HTTP"]);

      // The board's path as the API shows it names the server and schema, never the credentials.
      const { boards } = await api.boards.list.query();
      expect(boards.map((b) => b.db_path)).toEqual([`postgres://127.0.0.1:${pgUrl.port}/${db.name}#kanban_default`]);
      expect(boards[0]?.total).toBe(1);

      // A subscriber on the server; the writes come from separate local-mode processes (straight to
      // the database), so only PostgreSQL's NOTIFY (or the backstop) can tell the server.
      const watch = startBinary(["watch", "--kinds", "commented"], { ...h.env, KANBAN_URL: url });
      try {
        await watch.waitFor(/Watching board events\. Ctrl-C to stop\./);
        for (let i = 0; !/commented/.test(watch.stdout()); i++) {
          if (i > 20) throw new Error(`no event: ${watch.stdout()} ${watch.stderr()}`);
          const r = await runBinary(["comment", task.id, `from another process ${i}`], env);
          expect(r.code, r.err).toBe(0);
          await new Promise((resolve) => setTimeout(resolve, 300));
        }
        expect(watch.stdout()).toMatch(new RegExp(`\\] ${task.id} commented +\\(@coder\\)`));
      } finally {
        watch.kill();
      }
      // The server holds one LISTEN connection, one catalog connection and at most its board's pool (4).
      const open = await connectionsByApplication();
      expect(open["kanban-listen"]).toBe(1);
      expect(open["kanban-api-catalog"]).toBe(1);
      expect(open["kanban-api"]).toBeGreaterThanOrEqual(1);
      expect(open["kanban-api"]).toBeLessThanOrEqual(4);
      server.child.kill("SIGTERM");
      expect(await server.exited).toEqual({ code: 0, signal: null });
      expectNoSecret(server.stdout(), server.stderr());
    } finally {
      server.kill();
    }
  }, 120_000);

  it("refuses to remove a board on PostgreSQL (400, nothing changed) and creates one as a schema of its own", async () => {
    const h = home();
    const env = { ...h.env, KANBAN_DATABASE_URL: db.url };
    const made = await runBinary(["boards", "create", "proj"], env);
    expect(made.code, made.err).toBe(0);
    expect(made.out).toContain(`#kanban_proj`);
    const created = await runBinary(["--board", "proj", "create", "in proj"], env);
    expect(created.code, created.err).toBe(0);
    expect(await titlesInDatabase("kanban_proj")).toEqual(["in proj"]);
    const removed = await runBinary(["boards", "rm", "proj"], env);
    expect(removed.code).toBe(1);
    expect(removed.err).toMatch(/^kanban: boards on PostgreSQL cannot be archived yet: board 'proj' is unchanged/);
    expect(removed.err.split("\n")).toHaveLength(1);
    expect(fs.existsSync(path.join(h.home, "kanban", "boards", "proj", "board.json"))).toBe(true);
    const still = await runBinary(["--board", "proj", "list", "--json"], env);
    expect(still.code, still.err).toBe(0);

    // Another host (another home, no board.json for it): the board is the database's schema.
    const other = home();
    const otherEnv = { ...other.env, KANBAN_DATABASE_URL: db.url };
    const listed = await runBinary(["boards", "list", "--json"], otherEnv);
    expect(listed.code, listed.err).toBe(0);
    expect(listed.out).toContain('"proj"');
    const there = await runBinary(["--board", "proj", "list"], otherEnv);
    expect(there.code, there.err).toBe(0);
    expect(there.out).toContain("in proj");
    const unknown = await runBinary(["--board", "nope", "list"], otherEnv);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toBe("kanban: board 'nope' does not exist");
    expectNoSecret(made.out, made.err, removed.out, removed.err);
  }, 180_000);
});

describe("kanban serve refuses a database it cannot use, before it listens", () => {
  async function refused(databaseUrl: string): Promise<{ r: SpawnResult; port: number }> {
    const h = home();
    const port = await closedPort();
    const r = await runBinary(["serve", "--port", String(port)], { ...h.env, KANBAN_DATABASE_URL: databaseUrl });
    expect(r.code).toBe(1);
    expect(r.signal).toBeNull();
    expect(r.out).toBe("");
    // Exactly one line, no stack trace.
    expect(r.err.split("\n")).toHaveLength(1);
    expect(r.err).toMatch(/^kanban: cannot open the board database: /);
    expect(r.err).not.toMatch(/\n\s+at |Error:|node:internal/);
    expectNoSecret(r.out, r.err);
    expect(await listening(port)).toBe(false);
    return { r, port };
  }

  it("a malformed URL: DB_URL_INVALID, naming where it points", async () => {
    const u = new URL(db.url);
    const { r } = await refused(`postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${u.port}/`);
    expect(r.err).toContain(`invalid PostgreSQL URL (127.0.0.1:${u.port}): no database name given`);
  }, 120_000);

  it("an unreachable server (a closed loopback port): one line naming host:port/db", async () => {
    const closed = await closedPort();
    const u = new URL(db.url);
    u.port = String(closed);
    const { r } = await refused(u.toString());
    expect(r.err).toBe(
      `kanban: cannot open the board database: cannot reach PostgreSQL at 127.0.0.1:${closed}/${db.name}: connection refused`,
    );
  }, 120_000);

  it("a wrong password: one line naming host:port/db and the user, never either password", async () => {
    const u = new URL(db.url);
    u.password = "not-the-password-4711";
    const { r } = await refused(u.toString());
    expect(r.err).toContain(`PostgreSQL at 127.0.0.1:${u.port}/${db.name} refused user 'postgres'`);
    expect(r.err).not.toContain("not-the-password-4711");
  }, 120_000);
});

describe("which database: KANBAN_DATABASE_URL, else config.json's database", () => {
  it("config.json's database is used when the variable is absent", async () => {
    const h = home({ database: db.url });
    const made = await runBinary(["--board", "default", "create", "from config.json"], h.env);
    expect(made.code, made.err).toBe(0);
    const id = createdId(made.out);
    expect(await titlesInDatabase()).toContain("from config.json");
    // No SQLite board was made beside it.
    expect(fs.existsSync(path.join(h.home, "kanban.db"))).toBe(false);

    const server = startBinary(["serve", "--port", "0"], h.env);
    try {
      const [, url] = await server.waitFor(/Serving the kanban API at (http:\/\/127\.0\.0\.1:\d+)\/trpc/, 30_000);
      const api = createKanbanClient({ url: `${url}/trpc` });
      expect((await api.tasks.get.query({ id })).task.title).toBe("from config.json");
      server.child.kill("SIGTERM");
      expect(await server.exited).toEqual({ code: 0, signal: null });
      expectNoSecret(server.stdout(), server.stderr());
    } finally {
      server.kill();
    }
  }, 120_000);

  it("KANBAN_DATABASE_URL wins over config.json's database", async () => {
    const closed = await closedPort();
    const unreachable = new URL(db.url);
    unreachable.port = String(closed);
    const h = home({ database: unreachable.toString() });
    const failing = await runBinary(["create", "nowhere"], h.env);
    expect(failing.code).toBe(1);
    expect(failing.err).toContain(`cannot reach PostgreSQL at 127.0.0.1:${closed}/${db.name}`);
    expect(failing.err.split("\n")).toHaveLength(1);
    expectNoSecret(failing.err);

    const made = await runBinary(["create", "the variable wins"], { ...h.env, KANBAN_DATABASE_URL: db.url });
    expect(made.code, made.err).toBe(0);
    expect(await titlesInDatabase()).toContain("the variable wins");

    // Set but empty, it means SQLite, whatever config.json says.
    expect(fs.existsSync(path.join(h.home, "kanban.db"))).toBe(false);
    const empty = await runBinary(["create", "empty variable"], { ...h.env, KANBAN_DATABASE_URL: "" });
    expect(empty.code, empty.err).toBe(0);
    expect(fs.existsSync(path.join(h.home, "kanban.db"))).toBe(true);
    expect(await titlesInDatabase()).not.toContain("empty variable");
  }, 120_000);
});

describe("the CLI's local mode on KANBAN_DATABASE_URL", () => {
  it("kanban create and kanban show work on the PostgreSQL board, and nothing is written to SQLite", async () => {
    const h = home();
    const env = { ...h.env, KANBAN_DATABASE_URL: db.url };
    const made = await runBinary(["create", "local on postgres", "--assignee", "writer"], env);
    expect(made.code, made.err).toBe(0);
    const id = createdId(made.out);
    const shown = await runBinary(["show", id, "--json"], env);
    expect(shown.code, shown.err).toBe(0);
    const view = JSON.parse(shown.out) as { task: { title: string; assignee: string } };
    expect(view.task).toMatchObject({ title: "local on postgres", assignee: "writer" });
    expect(await titlesInDatabase()).toContain("local on postgres");
    expect(fs.existsSync(path.join(h.home, "kanban.db"))).toBe(false);
    // Without the variable the same home is an empty SQLite board.
    const sqlite = await runBinary(["show", id], h.env);
    expect(sqlite.code).toBe(1);
    expectNoSecret(made.out, made.err, shown.out, shown.err, sqlite.err);
  }, 120_000);
});
