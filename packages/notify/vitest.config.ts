import { defineConfig } from "vitest/config";
import { sourceResolution, sourceTestEnv } from "../../scripts/build-conditions.mjs";

export default defineConfig({
  ...sourceResolution,
  test: {
    env: sourceTestEnv,
    include: ["src/**/*.test.ts"],
    environment: "node",
    testTimeout: 20_000,
    hookTimeout: 20_000,
    reporters: ["default", "json"],
    outputFile: { json: ".vitest-report.json" },
  },
});
