// Where a claimer process finds its board, so that it opens the board the same way the test that
// made it did: an SQLite file by path, or a PostgreSQL board by URL and slug. Kept free of vitest
// (a claimer is a plain Node process) and of anything but the kernel's public entry point.
import { type Board, openBoard, openPgBoard } from "../src/index.ts";

/** An SQLite board file's path, or a PostgreSQL board's server URL and slug. */
export type ClaimerBoard = string | { url: string; slug: string };

/**
 * The argument and environment a child process is started with for `where`. The URL travels in the
 * environment, not on the command line, so that `ps` never shows the server's password.
 */
export function claimerLaunch(where: ClaimerBoard): { arg: string; env: NodeJS.ProcessEnv } {
  if (typeof where === "string") return { arg: where, env: { ...process.env, KANBAN_TEST_STORE: "sqlite" } };
  return {
    arg: where.slug,
    env: { ...process.env, KANBAN_TEST_STORE: "postgres", KANBAN_TEST_STORE_URL: where.url },
  };
}

/**
 * Opens the board named by `arg` and the environment `claimerLaunch` made (in the child: its own
 * environment; a test reading the result back passes the same `env`).
 */
export async function openClaimerBoard(
  arg: string,
  opts: { claimTtlSeconds?: number } = {},
  env: NodeJS.ProcessEnv = process.env,
): Promise<Board> {
  if (env.KANBAN_TEST_STORE === "postgres") {
    const url = env.KANBAN_TEST_STORE_URL;
    if (!url) throw new Error("KANBAN_TEST_STORE=postgres needs KANBAN_TEST_STORE_URL");
    // Two connections: a claimer runs one transaction at a time; eight of them share the server.
    return await openPgBoard({ url, board: arg, poolSize: 2, warn: () => {}, ...opts });
  }
  return openBoard({ path: arg, warn: () => {}, ...opts });
}
