// The `demo` board of `npm start -- --demo`: small projects whose cards are worked by the
// `demo-worker` profile (a fake worker that heartbeats, comments and completes, and now and then
// asks a person a question), so a newcomer sees cards move without any agent installed. A new
// project arrives every minute or so for DEMO_FEED_MINUTES, so the board is still moving when
// someone opens it a few minutes later; a second `--demo` start brings a new round of cards.
import fs from "node:fs";
import path from "node:path";
import { type BoardLocation, createBoard, homeConfigPath } from "@kanban/db";
import { type Board, openBoard } from "@kanban/kernel";

export const DEMO_BOARD = "demo";
export const DEMO_WORKER = "demo-worker";
/** How long new demo cards keep arriving after a start. */
export const DEMO_FEED_MINUTES = 10;
const FEED_EVERY_MS = 70_000;

/** Small projects, each a chain of steps (every step waits for the previous one). */
const PROJECTS: { name: string; steps: string[]; body?: string }[] = [
  {
    name: "Export",
    steps: ["Design the export format", "Implement the exporter", "Document the export command"],
    body: "Pick JSON lines vs CSV.\n\n- [ ] keep it streamable\n- [ ] one row per task",
  },
  { name: "Search", steps: ["Index task titles", "Add a search box to the board"] },
  { name: "Onboarding", steps: ["Write the getting-started page", "Record a 2-minute screencast"] },
  { name: "Billing", steps: ["Sketch the invoice model", "Price the API calls", "Review the pricing with finance"] },
  { name: "Alerts", steps: ["Send a mail when a card is blocked", "Let people mute a board"] },
  { name: "Reports", steps: ["Weekly throughput chart", "Export the chart as PNG"] },
  { name: "Mobile", steps: ["Make the board readable on a phone", "Swipe between columns"] },
];

function configureDemoWorker(loc: BoardLocation, root: string): void {
  const file = homeConfigPath(loc.home);
  let config: Record<string, unknown> = {};
  if (fs.existsSync(file)) {
    // The caller refuses an invalid file before this point: never overwrite what a person wrote.
    config = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
  }
  const profiles = (config.profiles ?? {}) as Record<string, unknown>;
  profiles[DEMO_WORKER] = {
    command: [process.execPath, path.join(root, "scripts", "demo-worker.mjs"), "{task_id}"],
    description: "fake worker for the demo board: heartbeats, comments, then completes",
  };
  const kanban = { dispatch_interval_seconds: 2, ...((config.kanban ?? {}) as Record<string, unknown>) };
  fs.writeFileSync(file, `${JSON.stringify({ ...config, kanban, profiles }, null, 2)}\n`);
}

/** How many projects the board has been given so far (the next one picks up from there). */
async function projectsSoFar(board: Board): Promise<number> {
  const firsts = PROJECTS.map((p) => p.steps[0] ?? "");
  return (await board.listTasks({ include_archived: true })).filter(
    (t) => t.created_by === "demo" && firsts.some((f) => t.title.startsWith(f)),
  ).length;
}

/** Adds project number `index`: its steps as a chain of cards for the demo worker. Returns how many cards. */
export async function addDemoProject(board: Board, index: number): Promise<number> {
  const p = PROJECTS[index % PROJECTS.length];
  if (!p) return 0;
  const cycle = Math.floor(index / PROJECTS.length) + 1;
  const suffix = cycle > 1 ? ` #${cycle}` : "";
  let parent: string | null = null;
  let n = 0;
  for (const [i, step] of p.steps.entries()) {
    const t = await board.createTask({
      title: `${step}${suffix}`,
      assignee: DEMO_WORKER,
      priority: p.steps.length - i,
      body: i === 0 ? (p.body ?? `Part of the ${p.name} project.`) : `Part of the ${p.name} project.`,
      parents: parent ? [parent] : [],
      created_by: "demo",
    });
    parent = t.id;
    n++;
  }
  return n;
}

/**
 * Configures the demo worker and adds a round of cards: the first start also adds a blocked card
 * and a triage idea; every later start adds the next projects, so a second `--demo` start moves
 * cards again instead of finding everything done.
 */
export async function seedDemo(
  loc: BoardLocation,
  root: string,
): Promise<{ board: string; tasks: number; first: boolean }> {
  configureDemoWorker(loc, root);
  createBoard(loc, DEMO_BOARD, { name: "Demo", description: "Cards worked by a fake worker" });
  const board = openBoard({ location: loc, board: DEMO_BOARD });
  try {
    const first = (await board.listTasks({ include_archived: true })).length === 0;
    const soFar = await projectsSoFar(board);
    let tasks = 0;
    for (let i = 0; i < 2; i++) tasks += await addDemoProject(board, soFar + i);
    if (first) {
      await board.createTask({
        title: "Ask legal about data retention",
        assignee: DEMO_WORKER,
        initial_status: "blocked",
        body: "Waiting on an answer.",
      });
      await board.createTask({ title: "Idea: incremental exports", triage: true });
      tasks += 2;
    }
    return { board: DEMO_BOARD, tasks, first };
  } finally {
    board.close();
  }
}

/**
 * Adds a project every ~70 s for DEMO_FEED_MINUTES (or until stopped), so the demo keeps moving
 * while someone looks at it. Runs in the `npm start` process; a failed write is reported once and
 * the feed stops (the board itself is unaffected).
 */
export function startDemoFeeder(
  loc: BoardLocation,
  slug: string,
  opts: { everyMs?: number; minutes?: number } = {},
): { stop(): void } {
  const everyMs = opts.everyMs ?? FEED_EVERY_MS;
  const until = Date.now() + (opts.minutes ?? DEMO_FEED_MINUTES) * 60_000;
  // A tick that outlasts the interval (a board busy in another process) must not overlap the next:
  // both would read the same project count and add the same project.
  let feeding = false;
  const timer = setInterval(async () => {
    if (feeding) return;
    if (Date.now() > until) {
      clearInterval(timer);
      console.log(
        `kanban: the demo stopped adding cards after ${opts.minutes ?? DEMO_FEED_MINUTES} minutes (start it again with --demo for another round)`,
      );
      return;
    }
    let board: Board | null = null;
    feeding = true;
    try {
      board = openBoard({ location: loc, board: slug });
      await addDemoProject(board, await projectsSoFar(board));
    } catch (err) {
      clearInterval(timer);
      process.stderr.write(`kanban: the demo feed stopped: ${err instanceof Error ? err.message : String(err)}\n`);
    } finally {
      board?.close();
      feeding = false;
    }
  }, everyMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
