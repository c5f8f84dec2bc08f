// A dispatcher's PostgreSQL coordination alone in its own process, driven line by line over stdin,
// for the multi-process tests (src/coordination/pg-coordination.test.ts). Run with `node --import tsx`.
//   argv: <url> <board> <id>
//   stdin: lock | unlock | held | beat | stop      stdout: one JSON line per event
import readline from "node:readline";
import { openPgCoordination } from "../src/coordination/postgres.ts";

const [url, board, id] = process.argv.slice(2) as [string, string, string];
const say = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(event)}\n`);

const coordination = await openPgCoordination(url, {
  host: `host-${id}`,
  pid: process.pid,
  id,
  intervalSeconds: 5,
  warn: (message) => say({ event: "warn", message }),
});
type HeldLock = { release(): void | Promise<void>; held?: () => boolean };
let lock = null as HeldLock | null;
let ticks = 0;
coordination.onNudge(() => {
  if (coordination.nudgePending()) say({ event: "nudged" });
});
const acquired = await coordination.acquire([board]);
say({ event: "registered", ...acquired });

for await (const line of readline.createInterface({ input: process.stdin })) {
  const cmd = line.trim();
  if (cmd === "lock") {
    const attempt = await coordination.tryTickLock({ slug: board, path: "" });
    if (attempt.ok) lock = attempt.lock as HeldLock;
    say({ event: attempt.ok ? "locked" : "busy" });
  } else if (cmd === "unlock") {
    await lock?.release();
    lock = null;
    say({ event: "unlocked" });
  } else if (cmd === "held") {
    say({ event: "held", held: lock?.held?.() ?? false });
  } else if (cmd === "beat") {
    ticks++;
    const now = Math.floor(Date.now() / 1000);
    await coordination.publish({
      pid: process.pid,
      started_at: now,
      last_tick_at: now,
      last_tick_ms: 3,
      interval_seconds: 5,
      ticks,
      boards: [
        {
          board,
          reclaimed: 0,
          crashed: [],
          timed_out: [],
          stale: [],
          auto_blocked: [],
          promoted: ticks,
          spawned: [],
          skipped_unassigned: [],
          skipped_nonspawnable: [],
        },
      ],
      running_workers: [],
      warnings: [],
    });
    say({ event: "beat", ticks });
  } else if (cmd === "stop") {
    await coordination.release();
    say({ event: "stopped" });
    process.exit(0);
  }
}
