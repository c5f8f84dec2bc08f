// A claimer process for the scale-out test: what a local-mode client (the CLI's `kanban claim`, an
// MCP tool) does on a PostgreSQL board, with no server in between. It opens the board named on its
// command line with its own small pool (the URL comes in the environment, never on the command
// line, so `ps` never shows the password), says "ready", waits for the parent's "go" line, then
// claims ready tasks until none are left and prints the ids it won as one JSON line.
import { openPgBoard } from "@kanban/kernel";
import { boardInternals } from "@kanban/kernel/testing";

const [slug, name] = process.argv.slice(2);
const url = process.env.SCALE_DATABASE_URL;
if (!slug || !name || !url) {
  process.stderr.write("usage: SCALE_DATABASE_URL=… pg-claimer <board slug> <name>\n");
  process.exit(2);
}
// A long claim: the dispatchers' stale-claim sweep must not take back what this process won while
// the test counts (every task must end with exactly one run).
const board = await openPgBoard({ url, board: slug, poolSize: 2, claimTtlSeconds: 3600, warn: () => {} });
const { ctx } = boardInternals(board);
// A plain read of candidates (outside any transaction); random offsets make the claimers collide
// sometimes, not always, so the claim's compare-and-swap is what decides. Offsets over 256 rows, not
// 32: windows of 64 that start within 32 rows of each other overlapped so much that 3 claimers lost
// 25,000 races for their 18,000 wins, each a wasted transaction on a CPU-bound CI machine.
const pick = async (offset: number) =>
  (
    (await ctx.all("SELECT id FROM tasks WHERE status = 'ready' AND claim_lock IS NULL LIMIT 64 OFFSET ?", offset)) as {
      id: string;
    }[]
  ).map((r) => r.id);

process.stdout.write("ready\n");
await new Promise<void>((resolve) => process.stdin.once("data", () => resolve()));
process.stdin.pause();

const won: string[] = [];
let lost = 0;
for (;;) {
  const some = await pick(Math.floor(Math.random() * 256));
  const ids = some.length === 0 ? await pick(0) : some;
  if (ids.length === 0) break;
  for (const id of ids) {
    if (await board.claimTask(id, { claimer: `${name}:${process.pid}` })) won.push(id);
    else lost++;
  }
}
board.close();
process.stdout.write(`${JSON.stringify({ name, won, lost })}\n`);
