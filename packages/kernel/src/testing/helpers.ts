import { afterEach, expect } from "vitest";
import { KernelError } from "../errors.ts";
import { createTestBoard, type TestBoard } from "./test-board.ts";

/**
 * A factory of test boards for one test file: every board it makes is cleaned up after each test.
 * Call it at module level: `const board = useTestBoards();` then `board()` inside tests.
 */
export function useTestBoards(): (opts?: Parameters<typeof createTestBoard>[0]) => TestBoard {
  const boards: TestBoard[] = [];
  afterEach(() => {
    for (const b of boards.splice(0)) b.cleanup();
  });
  return (opts = {}) => {
    const b = createTestBoard(opts);
    boards.push(b);
    return b;
  };
}

/** Runs `fn`, which must throw a KernelError, and returns that error. */
export function caught(fn: () => unknown): KernelError {
  try {
    fn();
  } catch (err) {
    if (err instanceof KernelError) return err;
    throw err;
  }
  throw new Error("expected a KernelError");
}

/** Matches a KernelError by code and exact message (for `toThrow` and `toMatchObject`). */
export const kernelError = (code: string, message: string) => expect.objectContaining({ code, message });
