import fs from "node:fs";
import { describe, expect, inject, it } from "vitest";
import { openPostgres } from "./pg-connection.ts";
import { createTestPgDatabase, startTestPostgres, testPostgresAdminUrl } from "./testing-pg.ts";

/** The harness other packages' tests rely on: a real server per run, a fresh database per file, nothing left. */

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("the test PostgreSQL harness", () => {
  it("starts an embedded server that accepts the admin URL, and stop() leaves no process and no directory", async () => {
    const server = await startTestPostgres({});
    const pid = server.pid;
    expect(server.source).toBe("embedded");
    expect(pid).toBeGreaterThan(0);
    const dataDir = fs.readlinkSync(`/proc/${pid}/cwd`);
    try {
      const db = await openPostgres(server.adminUrl, { poolSize: 1 });
      try {
        const { rows } = await db.pool.query("SELECT pg_postmaster_start_time() IS NOT NULL AS up");
        expect(rows).toEqual([{ up: true }]);
      } finally {
        await db.close();
      }
    } finally {
      await server.stop();
    }
    expect(alive(pid as number)).toBe(false);
    expect(fs.existsSync(dataDir)).toBe(false);
  });

  it("uses KANBAN_TEST_DATABASE_URL as it is when set, and stops nothing", async () => {
    const server = await startTestPostgres({ KANBAN_TEST_DATABASE_URL: testPostgresAdminUrl() });
    expect(server).toMatchObject({ source: "KANBAN_TEST_DATABASE_URL", pid: null, adminUrl: testPostgresAdminUrl() });
    await server.stop();
    const db = await openPostgres(testPostgresAdminUrl(), { poolSize: 1 });
    await db.close();
  });

  it("gives each caller a fresh database of its own, and drop() removes it", async () => {
    const [a, b] = await Promise.all([createTestPgDatabase(), createTestPgDatabase()]);
    expect(a.name).not.toBe(b.name);
    const admin = await openPostgres(testPostgresAdminUrl(), { poolSize: 1 });
    try {
      const names = async () =>
        (
          await admin.pool.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname = ANY($1)", [
            [a.name, b.name],
          ])
        ).rows
          .map((r) => r.datname)
          .sort();
      expect(await names()).toEqual([a.name, b.name].sort());
      const open = await openPostgres(a.url, { poolSize: 1, warn: () => {} });
      await open.pool.query("SELECT 1"); // a connection still open does not stop the drop
      await a.drop();
      await b.drop();
      await open.close().catch(() => {});
      expect(await names()).toEqual([]);
    } finally {
      await admin.close();
    }
  });

  it("runs this file against the run's server, which stays up while tests run", () => {
    const pid = inject("kanbanPostgresPid");
    if (pid > 0) expect(alive(pid)).toBe(true);
    expect(testPostgresAdminUrl()).toMatch(/^postgres:\/\//);
  });
});
