export { type BoardInternals, boardInternals, type RawSql, rawSql, refuseInserts } from "./internals.ts";
export { TestClock } from "./test-clock.ts";
export { createTestBoard, type TestBoard } from "./test-board.ts";
