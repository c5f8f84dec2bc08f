import { vi } from "vitest";
import type { BoardContext } from "../context.ts";

/**
 * Opens a write transaction on the board (its one writer lock, exclusive; `shared`: as a shared
 * writer, PostgreSQL) that runs `whileHeld` and then holds the lock, and whatever `whileHeld` locked,
 * until the returned `release` is called; resolves once it holds them. `release` lets the transaction
 * commit and waits for it.
 */
export async function holdWriterLock(
  ctx: BoardContext,
  whileHeld: () => Promise<unknown> = async () => {},
  opts: { shared?: boolean } = {},
): Promise<() => Promise<void>> {
  let release = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  let entered = () => {};
  const inside = new Promise<void>((resolve) => {
    entered = resolve;
  });
  const writer = ctx.tx(
    async () => {
      await whileHeld();
      entered();
      await held;
    },
    opts.shared === true ? { shared: true } : undefined,
  );
  // A writer that fails before holding the lock fails the wait too, instead of hanging it.
  await Promise.race([inside, writer]);
  return async () => {
    release();
    await writer;
  };
}

/**
 * The lock mode of each outermost write transaction the board begins from here on ("shared" or
 * "exclusive", see TxOptions.shared), in order.
 */
export function recordTxModes(ctx: BoardContext): string[] {
  const modes: string[] = [];
  const tx = ctx.tx.bind(ctx);
  vi.spyOn(ctx, "tx").mockImplementation(((fn: () => Promise<unknown>, opts?: { shared?: boolean }) => {
    if (!ctx.inTransaction) modes.push(opts?.shared === true ? "shared" : "exclusive");
    return tx(fn, opts);
  }) as never);
  return modes;
}
