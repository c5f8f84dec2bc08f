import { defineConfig } from "vitest/config";
import { sourceResolution, sourceTestEnv } from "../../scripts/build-conditions.mjs";

/**
 * Browser tests: one production build, one `next start` on a temporary KANBAN_HOME (global
 * setup), Debian's chromium driven by playwright-core. Files run one after another (2 cores);
 * each opens one browser and works on boards of its own, so tests never see each other's cards.
 */
export default defineConfig({
  ...sourceResolution,
  test: {
    env: sourceTestEnv,
    name: "e2e",
    include: ["e2e/**/*.test.ts"],
    environment: "node",
    globalSetup: ["./e2e/global-setup.ts"],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // expect.poll waits for what the page shows next; its 1 s default is a speed bound the CI
    // machine, running other suites beside this one, did not always meet. 10 s only bounds a hang.
    expect: { poll: { timeout: 10_000 } },
  },
});
