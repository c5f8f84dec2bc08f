// A claimer process for the concurrency test: opens the board (an SQLite file, or a PostgreSQL board
// when KANBAN_TEST_STORE=postgres: see claimer-board.ts) with its own connection and claims ready
// tasks until none are left, then prints the ids it won as JSON on stdout.
import { boardInternals } from "../src/testing/internals.ts";
import { openClaimerBoard } from "./claimer-board.ts";

const [where, name, startAt] = process.argv.slice(2);
if (!where || !name) {
  process.stderr.write("usage: claim-worker <db file | board slug> <name> [startAt | stdin]\n");
  process.exit(2);
}
const board = await openClaimerBoard(where, { claimTtlSeconds: 3600 });
// A plain read outside any transaction (the board's read connection on SQLite, the pool on
// PostgreSQL), as before: it must not take the board's writer lock the claims compete for.
const { ctx } = boardInternals(board);
const pick = async (offset: number) =>
  (
    (await ctx.all("SELECT id FROM tasks WHERE status = 'ready' AND claim_lock IS NULL LIMIT 64 OFFSET ?", offset)) as {
      id: string;
    }[]
  ).map((r) => r.id);
// Optional start barrier so that every process starts claiming at the same moment: either an epoch
// ms to spin until, or `stdin`: say "ready" once the board is open, then wait (asleep, not spinning:
// eight spinners on two cores slow the stragglers' start-up) for the parent's "go" line.
if (startAt === "stdin") {
  process.stdout.write("ready\n");
  await new Promise<void>((resolve) => {
    process.stdin.once("data", () => resolve());
  });
  process.stdin.pause();
} else {
  while (startAt && Date.now() < Number(startAt)) {
    // spin: the wait is short and must not let one process start early
  }
}
const won: string[] = [];
let lost = 0;
for (;;) {
  // A window of 64 at a random offset among the first 8 windows: the eight processes collide
  // sometimes, not always. (Offsets within one window's length made every process claim through
  // nearly the same rows: four lost claims for each one won, each a transaction, most of the race's time.)
  const ids = await pick(Math.floor(Math.random() * 512));
  const fallback = ids.length === 0 ? await pick(0) : ids;
  if (fallback.length === 0) break;
  for (const id of fallback) {
    const task = await board.claimTask(id, { claimer: `${name}:${process.pid}` });
    if (task) won.push(id);
    else lost++;
  }
}
await board.close();
process.stdout.write(`${JSON.stringify({ name, won, lost })}\n`);
