import { setImmediate as nextMacrotask } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { TransactionContext } from "./transaction-context.ts";

describe("TransactionContext", () => {
  it("gives a call chain started by run its token, across awaits and timers", async () => {
    const context = new TransactionContext<{ id: number }>();
    context.began();
    const seen = await context.run({ id: 7 }, async () => {
      await Promise.resolve();
      return await new Promise((resolve) => setTimeout(() => resolve(context.current()), 1));
    });
    context.ended();
    expect(seen).toEqual({ id: 7 });
    expect(context.current()).toBeUndefined();
  });

  it("is tracked while a transaction is open and stops one macrotask after the last ends", async () => {
    const context = new TransactionContext<string>();
    expect(context.tracked).toBe(false);
    context.began();
    context.run("a", () => {});
    expect(context.tracked).toBe(true);
    context.ended();
    // Still on until the macrotask: a caller writing in a loop begins its next one before it runs.
    expect(context.tracked).toBe(true);
    await nextMacrotask();
    expect(context.tracked).toBe(false);
  });

  it("stays on when the next transaction begins before the disabling macrotask runs", async () => {
    const context = new TransactionContext<string>();
    context.began();
    context.ended();
    context.began();
    await nextMacrotask();
    expect(context.tracked).toBe(true);
    // The token of a chain started now is still carried: the storage was never disabled.
    const seen = await context.run("b", async () => {
      await nextMacrotask();
      return context.current();
    });
    expect(seen).toBe("b");
    context.ended();
    await nextMacrotask();
    expect(context.tracked).toBe(false);
  });

  it("forgets the token of a chain that outlives its transaction once disabled", async () => {
    const context = new TransactionContext<string>();
    context.began();
    let later: Promise<string | undefined> = Promise.resolve(undefined);
    context.run("c", () => {
      later = new Promise((resolve) => setTimeout(() => resolve(context.current()), 20));
    });
    context.ended();
    await nextMacrotask();
    expect(context.tracked).toBe(false);
    // A disabled AsyncLocalStorage returns undefined everywhere, so the session counts the chain as outside.
    expect(await later).toBeUndefined();
  });
});
