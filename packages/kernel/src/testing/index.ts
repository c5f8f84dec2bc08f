export { type BoardInternals, boardInternals, type RawSql, rawSql } from "./internals.ts";
export { TestClock } from "./test-clock.ts";
export { createTestBoard, type TestBoard } from "./test-board.ts";
