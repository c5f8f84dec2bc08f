import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { type Board, type OpenBoardOptions, openBoard } from "../board.ts";
import { TestClock } from "./test-clock.ts";

export type TestBoard = Board & { clock: TestClock; dir: string; cleanup: () => void };

/** A board on a real SQLite file in a fresh temporary directory, driven by a TestClock. */
export function createTestBoard(opts: Partial<OpenBoardOptions> = {}): TestBoard {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kanban-kernel-"));
  const clock = opts.clock instanceof TestClock ? opts.clock : new TestClock();
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
