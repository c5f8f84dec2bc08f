import { defineConfig } from "vitest/config";

/**
 * The pack-and-install test. No "@kanban/source" condition here (unlike every other workspace):
 * the point is what a consumer gets, the built dist/ of the packed packages.
 */
export default defineConfig({
  test: {
    include: ["src/**/*.test.ts"],
    environment: "node",
    // Building, packing and installing happen once, in beforeAll.
    hookTimeout: 300_000,
    testTimeout: 60_000,
    reporters: ["default", "json"],
    outputFile: { json: ".vitest-report.json" },
  },
});
