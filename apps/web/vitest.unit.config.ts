import { defineConfig } from "vitest/config";

/** Unit tests of the board's pure logic (formatting, filters, navigation, windowing, moves). */
export default defineConfig({
  // tsconfig keeps JSX for Next ("preserve"); a component rendered in a unit test needs it compiled.
  oxc: { jsx: { runtime: "automatic" } },
  test: {
    name: "unit",
    include: ["src/**/*.test.ts"],
    environment: "node",
    testTimeout: 10_000,
  },
});
