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
    // Hang guards, not speed bounds: most tests start real `kanban` processes, a second or more each
    // on a loaded 2-core CI machine, and some wait for worker trees to be stopped.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ["default", "json"],
    outputFile: { json: ".vitest-report.json" },
  },
});
