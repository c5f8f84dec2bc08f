import { defineConfig } from "vitest/config";
import { sourceResolution, sourceTestEnv } from "../../scripts/build-conditions.mjs";

/**
 * The kernel's contract suites, run a second time with every test board on PostgreSQL
 * (the project provides `kanbanTestStore: "postgres"`, see src/testing/test-store.ts): one suite, both stores. The other
 * files poke SQLite directly (raw rows, file locks, journal modes) and run on SQLite only.
 */
export const BOTH_STORES = [
  "src/invariants.test.ts",
  "src/fencing.test.ts",
  "src/concurrency.test.ts",
  "src/create.test.ts",
  "src/claim.test.ts",
  "src/claim-next.test.ts",
  "src/claim-next-recheck.test.ts",
  "src/claim-next-race.test.ts",
  "src/event-horizon.test.ts",
  "src/complete.test.ts",
  "src/block.test.ts",
  "src/block-kinds.test.ts",
  "src/bulk.test.ts",
  "src/breaker.test.ts",
  "src/graph.test.ts",
  "src/list.test.ts",
  "src/patch.test.ts",
  "src/scoped-board.test.ts",
  "src/transitions.test.ts",
  "src/termination.test.ts",
  "src/settle-terminate.test.ts",
  "src/release-unstarted-claim.test.ts",
  "src/warnings.test.ts",
  "src/event-kinds.test.ts",
  "src/recovery.test.ts",
  "src/archive.test.ts",
  "src/edit.test.ts",
  "src/notify.test.ts",
  "src/notify-rules.test.ts",
  "src/notify-deliveries.test.ts",
  "src/respawn-guard.test.ts",
  "src/motion/explain.test.ts",
  "src/stored-json.test.ts",
  "src/testing/recycled-boards.test.ts",
  "src/labels.test.ts",
  "src/hosts.test.ts",
  "src/late-report.test.ts",
  "src/cancel.test.ts",
  "src/remote-exit.test.ts",
  "src/failure-classes.test.ts",
  "src/infrastructure-class.test.ts",
  "src/self-healing.test.ts",
  "src/previous-run.test.ts",
  "src/incidents.test.ts",
  "src/flow.test.ts",
  "src/flow-ledger.test.ts",
  "src/review.test.ts",
  "src/usage.test.ts",
  "src/budgets.test.ts",
  "src/gates.test.ts",
];

/** What only PostgreSQL can show (a server that turns read-only, a privilege taken away). */
const PG_ONLY = ["src/**/*.pg.test.ts"];

const shared = {
  environment: "node",
  testTimeout: 20_000,
  hookTimeout: 20_000,
} as const;

export default defineConfig({
  ...sourceResolution,
  test: {
    reporters: ["default", "json"],
    outputFile: { json: ".vitest-report.json" },
    projects: [
      {
        ...sourceResolution,
        test: {
          ...shared,
          name: "sqlite",
          env: sourceTestEnv,
          include: ["src/**/*.test.ts"],
          exclude: [...PG_ONLY],
        },
      },
      {
        ...sourceResolution,
        test: {
          ...shared,
          name: "postgres",
          env: sourceTestEnv,
          provide: { kanbanTestStore: "postgres" },
          include: [...BOTH_STORES, ...PG_ONLY],
          globalSetup: ["@kanban/db/testing-pg/global-setup"],
        },
      },
    ],
  },
});
