import { defineConfig } from "vitest/config";

/**
 * `npm test` in apps/web: the unit tests of the board's logic and the browser tests against the
 * production build, one run and one report. `vitest run --project unit` runs the fast half alone.
 */
export default defineConfig({
  test: {
    projects: ["./vitest.unit.config.ts", "./vitest.e2e.config.ts"],
    reporters: ["default", "json"],
    outputFile: { json: ".vitest-report.json" },
  },
});
