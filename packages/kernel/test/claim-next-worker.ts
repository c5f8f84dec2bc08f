// A claimer process for the claim-walk race test: opens the board (see claimer-board.ts), says
// "ready", waits for the parent's "go" line, then takes tasks the way a dispatcher does (claimNext,
// one task per walk, a fresh lane when its view runs out) until a fresh lane claims nothing, and
// prints the ids it won as JSON on stdout.
import { ReadyLane } from "../src/index.ts";
import { openClaimerBoard } from "./claimer-board.ts";

const [where, name] = process.argv.slice(2);
if (!where || !name) {
  process.stderr.write("usage: claim-next-worker <db file | board slug> <name>\n");
  process.exit(2);
}
const board = await openClaimerBoard(where, { claimTtlSeconds: 3600 });
process.stdout.write("ready\n");
await new Promise<void>((resolve) => {
  process.stdin.once("data", () => resolve());
});
process.stdin.pause();
const won: string[] = [];
let lane = new ReadyLane();
for (;;) {
  // A walk that read the lane afresh and claimed nothing means nothing is left for this claimer.
  const fresh = lane.rows === null;
  const { claimed, more } = await board.claimNext(lane, { claimer: `${name}:${process.pid}` }, 1);
  const task = claimed[0]?.task;
  if (task) won.push(task.id);
  else if (!more) {
    if (fresh) break;
    lane = new ReadyLane();
  }
}
await board.close();
process.stdout.write(`${JSON.stringify({ name, won })}\n`);
