import { defineConfig } from "vitest/config";
import { sourceResolution, sourceTestEnv } from "../../scripts/build-conditions.mjs";

export default defineConfig({
  ...sourceResolution,
  test: {
    env: sourceTestEnv,
    include: ["src/**/*.test.ts"],
    environment: "node",
    // A real PostgreSQL for the coordination tests (src/coordination/*.test.ts); each creates its own database.
    globalSetup: ["@kanban/db/testing-pg/global-setup"],
    // The kernel bundle the fake workers load instead of its sources through tsx (test/fake-kernel.mjs).
    setupFiles: ["./test/setup.ts"],
    // Hang guards, not speed bounds: the tests start real dispatchers and workers, which on a loaded
    // 2-core CI machine take seconds each to start.
    testTimeout: 90_000,
    hookTimeout: 60_000,
    reporters: ["default", "json"],
    outputFile: { json: ".vitest-report.json" },
  },
});
