import { randomBytes } from "node:crypto";
import { inject } from "vitest";
import { openPostgres } from "./pg-connection.ts";
import { quoteIdent } from "./pg-board-schema.ts";

export { startTestPostgres, type TestPostgresServer } from "./test/pg-server.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** Admin URL of the run's PostgreSQL (set by `@kanban/db/testing-pg/global-setup`). */
    kanbanPostgresAdminUrl: string;
    /** The postmaster's pid when the run started it, else 0. */
    kanbanPostgresPid: number;
    /** The store of a suite run on both (the kernel's and the API's "postgres" vitest projects). */
    kanbanTestStore: "postgres" | "sqlite";
  }
}

export interface TestPgDatabase {
  /** URL of the new, empty database (same server, user and password as the admin URL). */
  url: string;
  name: string;
  /** Drops the database, closing any connection still open on it. */
  drop(): Promise<void>;
}

/** The run's admin URL; a clear error when the package's vitest config lacks the global setup. */
export function testPostgresAdminUrl(): string {
  const url = inject("kanbanPostgresAdminUrl");
  if (!url) {
    throw new Error(
      "no test PostgreSQL: add globalSetup: ['@kanban/db/testing-pg/global-setup'] to this package's vitest config",
    );
  }
  return url;
}

/** The admin URL with another database name. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

/**
 * A fresh database on the run's server, for one test file (`beforeAll`), with a random name, so
 * files running in parallel never see each other's boards. Call `drop()` in `afterAll`.
 */
export async function createTestPgDatabase(prefix = "kanban_test"): Promise<TestPgDatabase> {
  const adminUrl = testPostgresAdminUrl();
  const name = `${prefix}_${randomBytes(6).toString("hex")}`;
  const admin = await openPostgres(adminUrl, { poolSize: 1, applicationName: "kanban-test-admin" });
  try {
    await admin.pool.query(`CREATE DATABASE ${quoteIdent(name)} ENCODING 'UTF8' TEMPLATE template0`);
  } finally {
    await admin.close();
  }
  return {
    url: withDatabase(adminUrl, name),
    name,
    drop: async () => {
      const again = await openPostgres(adminUrl, { poolSize: 1, applicationName: "kanban-test-admin" });
      try {
        await again.pool.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
      } finally {
        await again.close();
      }
    },
  };
}
