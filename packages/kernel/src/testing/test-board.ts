import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { type Board, type OpenBoardOptions, openBoard } from "../board.ts";
import { pgBoard, pgBoardOn } from "../open-pg-board.ts";
import { TestClock } from "./test-clock.ts";
import { dropTestSchemaLater, recycleTestSchemaLater, leaseTestSchema, testStore, testStoreUrl } from "./test-store.ts";

export type TestBoard = Board & { clock: TestClock; dir: string; cleanup: () => void };

/**
 * A board on a real SQLite file in a fresh temporary directory, driven by a TestClock; or, when the
 * run's store is PostgreSQL (see test-store.ts), a board in a fresh
 * schema of the run's test PostgreSQL, dropped again after `cleanup`.
 */
export function createTestBoard(
  opts: Partial<OpenBoardOptions> = {},
  /** @internal a PostgreSQL schema to empty for the next test rather than drop (see `useTestBoards`). */
  reuse: { recycle: boolean } = { recycle: false },
): TestBoard {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kanban-kernel-"));
  const clock = opts.clock instanceof TestClock ? opts.clock : new TestClock();
  if (testStore() === "postgres") {
    // mkdtemp's suffix makes the directory unique on this host, and so the board's schema.
    const suffix = path
      .basename(dir)
      .replace(/^kanban-kernel-/, "")
      .toLowerCase()
      .replace(/[^a-z0-9]/g, "_");
    const lease = reuse.recycle ? leaseTestSchema(`t_${suffix}_${process.pid}`) : null;
    const slug = lease?.slug ?? `t_${suffix}_${process.pid}`;
    const options = { board: slug, warn: () => {}, hostname: "testhost", pid: 4242, ...pick(opts), clock };
    const board = lease ? pgBoardOn(lease.db, options) : pgBoard({ url: testStoreUrl(), poolSize: 3, ...options });
    return Object.assign(board, {
      clock,
      dir,
      cleanup: () => {
        // The schema is dropped later, once its sessions have settled (test-store.ts).
        void board.close();
        if (lease) recycleTestSchemaLater(lease);
        else dropTestSchemaLater(slug);
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
      // An idle SQLite board closes at once, before its directory goes.
      void board.close();
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

/**
 * A second, independent connection to the board `b` (what another process would have): the same
 * SQLite file, or the same PostgreSQL board (server and slug). The caller closes it.
 */
export function openTestBoardAgain(b: TestBoard, opts: Partial<OpenBoardOptions> = {}): Board {
  if (testStore() === "postgres") {
    if (!b.slug) throw new Error("openTestBoardAgain: a PostgreSQL test board has a slug");
    return pgBoard({
      url: testStoreUrl(),
      board: b.slug,
      warn: opts.warn ?? (() => {}),
      poolSize: 2,
      ...pick(opts),
      ...(opts.clock ? { clock: opts.clock } : {}),
    });
  }
  return openBoard({ warn: () => {}, ...opts, path: b.path });
}

/**
 * Where a child process finds the board `b`: the SQLite file's path, or the PostgreSQL server's URL
 * and the board's slug (test/claimer-board.ts turns it into the child's argument and environment).
 */
export function testBoardAddress(b: TestBoard): string | { url: string; slug: string } {
  if (testStore() === "postgres") {
    if (!b.slug) throw new Error("testBoardAddress: a PostgreSQL test board has a slug");
    return { url: testStoreUrl(), slug: b.slug };
  }
  return b.path;
}
