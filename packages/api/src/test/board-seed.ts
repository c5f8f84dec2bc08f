import type { Board } from "@kanban/kernel";
import { boardInternals } from "@kanban/kernel/testing";
import { vi } from "vitest";

/**
 * Seeds `n` tasks shaped like a real board: chains of links, comments, done tasks with summaries,
 * running claims with heartbeats, blocked and ready ones. One transaction, so seeding stays fast.
 */
export async function seedBoard(board: Board, n: number): Promise<void> {
  await boardInternals(board).ctx.tx(async () => {
    let prev: string | null = null;
    for (let i = 0; i < n; i++) {
      const task = await board.createTask({
        title: `task ${i}`,
        assignee: `w${i % 3}`,
        tenant: i % 2 ? "acme" : null,
        parents: prev && i % 4 === 1 ? [prev] : [],
      });
      if (i % 5 === 0) await board.addComment(task.id, "ann", `comment ${i}`);
      if (task.status === "ready" && i % 4 === 0) {
        const claimed = await board.claimTask(task.id);
        if (i % 8 === 0 && claimed) await board.completeTask(task.id, { summary: `summary ${i}` });
        else if (claimed) await board.heartbeatWorker(task.id, { note: "alive" });
      } else if (task.status === "ready" && i % 7 === 0) {
        await board.blockTask(task.id, { reason: "wait" });
      }
      prev = task.id;
    }
  });
}

/**
 * Counts the statements a board sends to its database, on either engine, and keeps their SQL (the
 * store's dialect, before any translation) and arguments. Every store function speaks SQL through the
 * board's context (`get`, `all`, `run`, `insert`, `tasks`, `task`: kernel/src/store/port.ts), so a spy
 * on each of those sees every statement exactly once.
 */
export function countStatements(board: Board): {
  reset(): void;
  readonly count: number;
  readonly executed: { sql: string; args: unknown[] }[];
} {
  const { ctx } = boardInternals(board);
  const spies = (["get", "all", "run", "insert", "tasks", "task"] as const).map((m) => vi.spyOn(ctx, m));
  return {
    reset: () => {
      for (const s of spies) s.mockClear();
    },
    get count() {
      return spies.reduce((sum, s) => sum + s.mock.calls.length, 0);
    },
    get executed() {
      return spies.flatMap((s) =>
        s.mock.calls.map((call) => {
          const [sql, ...args] = call as unknown as [string, ...unknown[]];
          return { sql, args };
        }),
      );
    },
  };
}
