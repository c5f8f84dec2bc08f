export { type BoardInternals, boardInternals } from "./internals.ts";
export { TestClock } from "./test-clock.ts";
export { createTestBoard, type TestBoard } from "./test-board.ts";
