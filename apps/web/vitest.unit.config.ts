import { defineConfig } from "vitest/config";
import { sourceResolution, sourceTestEnv } from "../../scripts/build-conditions.mjs";

/** Unit tests of the board's pure logic (formatting, filters, navigation, windowing, moves). */
export default defineConfig({
  ...sourceResolution,
  // tsconfig keeps JSX for Next ("preserve"); a component rendered in a unit test needs it compiled.
  oxc: { jsx: { runtime: "automatic" } },
  test: {
    env: sourceTestEnv,
    name: "unit",
    include: ["src/**/*.test.ts"],
    environment: "node",
    testTimeout: 10_000,
  },
});
