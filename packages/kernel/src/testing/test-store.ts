import { boardSchemaName, type KanbanPostgres, openPostgres, quoteIdent } from "@kanban/db";
import { inject } from "vitest";

/**
 * Which engine the kernel's test boards use in this run: a vitest project that provides
 * `kanbanTestStore: "postgres"` makes `createTestBoard` (and so `useTestBoards`) open boards on the
 * run's test PostgreSQL, so one suite runs against both stores (the kernel's vitest config runs its
 * contract suites a second time so).
 */
export function testStore(): "sqlite" | "postgres" {
  return inject("kanbanTestStore" as never) === "postgres" ? "postgres" : "sqlite";
}

/** The run's PostgreSQL (from the global setup `@kanban/db/testing-pg/global-setup`). */
export function testStoreUrl(): string {
  const url = inject("kanbanPostgresAdminUrl" as never) as string | undefined;
  if (!url)
    throw new Error("a PostgreSQL test store needs the PostgreSQL global setup in this package's vitest config");
  return url;
}

let admin: Promise<KanbanPostgres> | null = null;
const pending = new Set<Promise<void>>();

/** Drops a test board's schema once its board has let go of it (awaited by `settleTestSchemas`). */
export function dropTestSchemaLater(slug: string): void {
  admin ??= openPostgres(testStoreUrl(), { poolSize: 2, applicationName: "kanban-test-cleanup" });
  const drop = admin
    .then((db) => db.pool.query(`DROP SCHEMA IF EXISTS ${quoteIdent(boardSchemaName(slug))} CASCADE`))
    .then(
      () => {},
      () => {},
    )
    .finally(() => pending.delete(drop));
  pending.add(drop);
}

/** Waits for every schema drop started so far. */
export async function settleTestSchemas(): Promise<void> {
  await Promise.all([...pending]);
}
