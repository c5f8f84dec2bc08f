import { defineConfig } from "vitest/config";
import { sourceResolution, sourceTestEnv } from "../../scripts/build-conditions.mjs";

export default defineConfig({
  ...sourceResolution,
  test: {
    env: sourceTestEnv,
    include: ["src/**/*.test.ts"],
    environment: "node",
    // A real PostgreSQL for the scale-out test (scale-out-pg.test.ts), which creates its own database.
    globalSetup: ["@kanban/db/testing-pg/global-setup"],
    testTimeout: 120_000,
    // A hook that starts a server waits up to a minute for it (support/kanban-serve.ts): CI runs three
    // suites at once on two cores, and a start there has once taken longer than 20 s.
    hookTimeout: 90_000,
    // Each file drives real processes against the clock; on a 2-core machine they must not compete.
    fileParallelism: false,
    reporters: ["default", "json"],
    outputFile: { json: ".vitest-report.json" },
  },
});
