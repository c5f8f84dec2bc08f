import { defineConfig } from "vitest/config";
import { sourceResolution, sourceTestEnv } from "../../scripts/build-conditions.mjs";

export default defineConfig({
  ...sourceResolution,
  test: {
    env: sourceTestEnv,
    include: ["src/**/*.test.ts"],
    environment: "node",
    // A real PostgreSQL for the tests of boards on it (serve-pg.test.ts); each file creates its own database.
    globalSetup: ["@kanban/db/testing-pg/global-setup"],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    reporters: ["default", "json"],
    outputFile: { json: ".vitest-report.json" },
  },
});
