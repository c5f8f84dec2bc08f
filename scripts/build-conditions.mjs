// The export condition that selects a workspace package's TypeScript sources over its built dist/.
// Every library's package.json lists it first in "exports" ("@kanban/source": "./src/….ts", then
// "types"/"import" into dist/), so a consumer's plain Node and tsc get dist/ while the monorepo's own
// tools, told this condition, run and check the sources without a build step:
//   tsc: tooling/tsconfig/base.json "customConditions"; vitest: the fragment below in each config;
//   Node and tsx: `--conditions=@kanban/source`, passed to child processes through NODE_OPTIONS.
import { defaultClientConditions, defaultServerConditions } from "vite";

export const SOURCE_CONDITION = "@kanban/source";

/** NODE_OPTIONS with the source condition added (once), for processes a dev tool or test starts. */
export function nodeOptionsWithSource(current = "") {
  const flag = `--conditions=${SOURCE_CONDITION}`;
  return current.includes(flag) ? current : `${current} ${flag}`.trim();
}

/**
 * Spread into a vitest config: Vite resolves workspace imports in the test files to sources (node
 * tests run in Vite's server environment, hence `ssr`), and processes the tests spawn
 * (`node --import tsx …`, the bins) inherit the condition through NODE_OPTIONS.
 */
export const sourceResolution = {
  resolve: { conditions: [SOURCE_CONDITION, ...defaultClientConditions] },
  ssr: { resolve: { conditions: [SOURCE_CONDITION, ...defaultServerConditions] } },
};

/**
 * For `test.env`: the source condition for every process a test starts. turbo passes no
 * NODE_OPTIONS to `npm test`, so there is nothing of the caller's to keep.
 */
export const sourceTestEnv = { NODE_OPTIONS: nodeOptionsWithSource() };
