import { defineConfig } from "vitest/config";

/** Unit tests of the board's pure logic (formatting, filters, navigation, windowing, moves). */
export default defineConfig({
  test: {
    name: "unit",
    include: ["src/**/*.test.ts"],
    environment: "node",
    testTimeout: 10_000,
  },
});
