import { afterEach, describe, expect, it } from "vitest";
import * as kernel from "../index.ts";
import { boardInternals } from "./internals.ts";
import { createTestBoard, type TestBoard } from "./test-board.ts";

describe("a Board's connection is not public", () => {
  let b: TestBoard;
  afterEach(() => b.cleanup());

  it("offers no SQLite handle, and the kernel's entry point exports no BoardContext", () => {
    b = createTestBoard();
    expect("sqlite" in b).toBe(false);
    // @ts-expect-error the context is private to the kernel: callers use Board methods
    expect(b.ctx).toBeDefined();
    // @ts-expect-error the storage (connections, engine session) is private too
    expect(b.storage).toBeDefined();
    expect(Object.keys(kernel)).not.toContain("BoardContext");
  });

  it("boardInternals reaches the live context and connection, for tests and benchmarks", async () => {
    b = createTestBoard();
    const { ctx, sqlite } = boardInternals(b);
    const id = (await b.createTask({ title: "seeded" })).id;
    await ctx.tx(() => sqlite.prepare("UPDATE tasks SET priority = 7 WHERE id = ?").run(id));
    expect((await b.requireTask(id)).priority).toBe(7);
    expect((await ctx.getTask(id))?.title).toBe("seeded");
  });
});
