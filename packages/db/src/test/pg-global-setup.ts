import type { TestProject } from "vitest/node";
import { startTestPostgres } from "./pg-server.ts";

/**
 * vitest globalSetup: one PostgreSQL server per test run (see startTestPostgres), its admin URL handed
 * to the test files through `provide`, stopped when the run ends. Another package uses it with
 * `globalSetup: ["@kanban/db/testing-pg/global-setup"]` (or this file's path) in its vitest config,
 * and `createTestPgDatabase()` from `@kanban/db/testing-pg` in its tests.
 */
export async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startTestPostgres();
  project.provide("kanbanPostgresAdminUrl", server.adminUrl);
  project.provide("kanbanPostgresPid", server.pid ?? 0);
  return () => server.stop();
}
