// A claimer process for the concurrency test: opens the board file with its own connection and
// claims ready tasks until none are left, then prints the ids it won as JSON on stdout.
import { openBoard } from "../src/index.ts";
import { boardInternals } from "../src/testing/index.ts";

const [file, name, startAt] = process.argv.slice(2);
if (!file || !name) {
  process.stderr.write("usage: claim-worker <db> <name>\n");
  process.exit(2);
}
const board = openBoard({ path: file, claimTtlSeconds: 3600, warn: () => {} });
const pick = boardInternals(board).sqlite.prepare(
  "SELECT id FROM tasks WHERE status = 'ready' AND claim_lock IS NULL LIMIT 64 OFFSET ?",
);
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
  // Different offsets per process make them collide sometimes, not always.
  const ids = (pick.all(Math.floor(Math.random() * 32)) as { id: string }[]).map((r) => r.id);
  const fallback = ids.length === 0 ? (pick.all(0) as { id: string }[]).map((r) => r.id) : ids;
  if (fallback.length === 0) break;
  for (const id of fallback) {
    const task = await board.claimTask(id, { claimer: `${name}:${process.pid}` });
    if (task) won.push(id);
    else lost++;
  }
}
board.close();
process.stdout.write(`${JSON.stringify({ name, won, lost })}\n`);
