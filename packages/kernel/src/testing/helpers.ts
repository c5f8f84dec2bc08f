import { createTestDatabase } from "@kanban/db/testing";
import { SqliteSession } from "../store/sqlite/session.ts";
import { afterAll, afterEach, expect } from "vitest";
import { BoardContext } from "../context.ts";
import { KernelError } from "../errors.ts";
import { randomIds } from "../ids.ts";
import { createTestBoard, type TestBoard } from "./test-board.ts";
import { TestClock } from "./test-clock.ts";
import { dropFreeTestSchemas, settleTestSchemas } from "./test-store.ts";

/**
 * A factory of test boards for one test file: every board it makes is cleaned up after each test.
 * Call it at module level: `const board = useTestBoards();` then `board()` inside tests.
 */
export function useTestBoards(): (opts?: Parameters<typeof createTestBoard>[0]) => TestBoard {
  const boards: TestBoard[] = [];
  afterEach(async () => {
    for (const b of boards.splice(0)) b.cleanup();
    await settleTestSchemas();
  });
  afterAll(async () => await dropFreeTestSchemas());
  return (opts = {}) => {
    const b = createTestBoard(opts, { recycle: true });
    boards.push(b);
    return b;
  };
}

export interface TestContext {
  db: ReturnType<typeof createTestDatabase>;
  clock: TestClock;
  ctx: BoardContext;
}

/**
 * A bare BoardContext on a fresh database with a clock at `t0`, for tests of the modules under the
 * Board facade. Call `db.cleanup()` after the test.
 */
export function createTestContext(t0: number): TestContext {
  const db = createTestDatabase();
  const clock = new TestClock(t0);
  return { db, clock, ctx: new BoardContext(new SqliteSession(db.sqlite, clock), randomIds) };
}

/** `xs.map(fn)` for an async `fn`, one call after another, in order (board verbs are async). */
export async function mapInOrder<T, U>(xs: readonly T[], fn: (x: T, i: number) => Promise<U>): Promise<U[]> {
  const out: U[] = [];
  for (const [i, x] of xs.entries()) out.push(await fn(x, i));
  return out;
}

/** Runs `fn`, which must throw a KernelError, and returns that error. */
export async function caught(fn: () => unknown): Promise<KernelError> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof KernelError) return err;
    throw err;
  }
  throw new Error("expected a KernelError");
}

/** Matches a KernelError by code and exact message (for `toThrow` and `toMatchObject`). */
export const kernelError = (code: string, message: string) => expect.objectContaining({ code, message });

/**
 * Numbers in [0, 1) from a seed, the same sequence on every run (a linear congruential generator):
 * randomized tests that fail, fail again the same way.
 */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
    return s / 2 ** 32;
  };
}
