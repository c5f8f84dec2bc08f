import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { type Board, type OpenBoardOptions, openBoard } from "../board.ts";
import { pgBoard } from "../open-pg-board.ts";
import { TestClock } from "./test-clock.ts";
import { dropTestSchemaLater, testStore, testStoreUrl } from "./test-store.ts";

export type TestBoard = Board & { clock: TestClock; dir: string; cleanup: () => void };

/**
 * A board on a real SQLite file in a fresh temporary directory, driven by a TestClock; or, when the
 * run's store is PostgreSQL (see test-store.ts), a board in a fresh
 * schema of the run's test PostgreSQL, dropped again after `cleanup`.
 */
export function createTestBoard(opts: Partial<OpenBoardOptions> = {}): TestBoard {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kanban-kernel-"));
  const clock = opts.clock instanceof TestClock ? opts.clock : new TestClock();
  if (testStore() === "postgres") {
    // mkdtemp's suffix makes the directory unique on this host, and so the board's schema.
    const suffix = path
      .basename(dir)
      .replace(/^kanban-kernel-/, "")
      .toLowerCase()
      .replace(/[^a-z0-9]/g, "_");
    const slug = `t_${suffix}_${process.pid}`;
    const board = pgBoard({
      url: testStoreUrl(),
      board: slug,
      warn: () => {},
      hostname: "testhost",
      pid: 4242,
      poolSize: 3,
      ...pick(opts),
      clock,
    });
    return Object.assign(board, {
      clock,
      dir,
      cleanup: () => {
        board.close();
        dropTestSchemaLater(slug);
        fs.rmSync(dir, { recursive: true, force: true });
      },
    });
  }
  const board = openBoard({
    warn: () => {},
    hostname: "testhost",
    pid: 4242,
    ...opts,
    clock,
    path: path.join(dir, "kanban.db"),
  });
  return Object.assign(board, {
    clock,
    dir,
    cleanup: () => {
      board.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  });
}

/** The options a PostgreSQL board shares with an SQLite one (file options such as `path` do not apply). */
function pick(opts: Partial<OpenBoardOptions>) {
  const {
    ids,
    isPidAlive,
    hostname,
    pid,
    claimTtlSeconds,
    failureLimit,
    defaultWorkdir,
    diagnosticsPolicy,
    onDiagnosticsRun,
  } = opts;
  return Object.fromEntries(
    Object.entries({
      ids,
      isPidAlive,
      hostname,
      pid,
      claimTtlSeconds,
      failureLimit,
      defaultWorkdir,
      diagnosticsPolicy,
      onDiagnosticsRun,
    }).filter(([, v]) => v !== undefined),
  );
}
