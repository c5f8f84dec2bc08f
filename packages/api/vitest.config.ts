import { configDefaults, defineConfig } from "vitest/config";
import { sourceResolution, sourceTestEnv } from "../../scripts/build-conditions.mjs";

/**
 * The router suites run a second time with every board on PostgreSQL (project "postgres": each file
 * gets a fresh database, see src/test/pg-store.ts): one suite, both stores. The other files test the
 * server, transport and SQLite-specific behaviour and run on SQLite only.
 */
export const BOTH_STORES = ["src/routers/**/*.test.ts"];

/** Files under BOTH_STORES that test SQLite itself, each with its reason; they run on SQLite only. */
const SQLITE_ONLY = [
  // SQLite's EXPLAIN QUERY PLAN and index names; board.test.ts counts the view's statements on both.
  "src/routers/board-query-plan.test.ts",
];

const shared = {
  environment: "node",
  // A real PostgreSQL for the "postgres" project and for tests of boards on it (routers/dispatcher-pg.test.ts).
  globalSetup: ["@kanban/db/testing-pg/global-setup"] as string[],
  testTimeout: 20_000,
  hookTimeout: 20_000,
} as const;

export default defineConfig({
  ...sourceResolution,
  test: {
    reporters: ["default", "json"],
    outputFile: { json: ".vitest-report.json" },
    projects: [
      { ...sourceResolution, test: { ...shared, name: "sqlite", env: sourceTestEnv, include: ["src/**/*.test.ts"] } },
      {
        ...sourceResolution,
        test: {
          ...shared,
          name: "postgres",
          env: sourceTestEnv,
          include: BOTH_STORES,
          exclude: [...configDefaults.exclude, ...SQLITE_ONLY],
          // Read by src/test/pg-store.ts through inject("kanbanTestStore").
          provide: { kanbanTestStore: "postgres" } as never,
          setupFiles: ["src/test/pg-store-setup.ts"],
        },
      },
    ],
  },
});
