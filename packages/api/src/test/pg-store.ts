import { type KanbanPostgres, openPostgres } from "@kanban/db";
import { createTestPgDatabase, type TestPgDatabase } from "@kanban/db/testing-pg";
import { afterAll, afterEach, beforeAll, inject } from "vitest";

/**
 * The API's router suites on PostgreSQL: the vitest project "postgres" (vitest.config.ts) provides
 * `kanbanTestStore: "postgres"` and loads this file first in each test file. Each file gets a fresh
 * database; `createTestApi` then keeps its boards there, and after each test every board schema is
 * dropped, so each test starts on empty boards as it does on a fresh SQLite home.
 */
let database: TestPgDatabase | null = null;

export function testStoreIsPostgres(): boolean {
  return inject("kanbanTestStore" as never) === "postgres";
}

/** The database of the running test file (only under the "postgres" project). */
export function testPgUrl(): string {
  if (!database) throw new Error("no test database: is src/test/pg-store-setup.ts in the project's setupFiles?");
  return database.url;
}

export function installPgTestStore(): void {
  // One cleanup connection for the file: opening one per test cost a probe and a pool connection each.
  let cleanup: KanbanPostgres | null = null;
  beforeAll(async () => {
    database = await createTestPgDatabase("kanban_api");
  });
  afterEach(async () => {
    if (!database) return;
    cleanup ??= await openPostgres(database.url, { poolSize: 1, applicationName: "kanban-test-cleanup" });
    const { rows } = await cleanup.pool.query<{ name: string }>(
      "SELECT nspname AS name FROM pg_namespace WHERE nspname LIKE 'kanban\\_%'",
    );
    // One round trip for every board schema of the test.
    if (rows.length > 0)
      await cleanup.pool.query(
        `DROP SCHEMA ${rows.map(({ name }) => `"${name.replaceAll('"', '""')}"`).join(", ")} CASCADE`,
      );
  });
  afterAll(async () => {
    await cleanup?.close();
    cleanup = null;
    await database?.drop();
    database = null;
  });
}
