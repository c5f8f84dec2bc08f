// Seeds the `demo` board: a small project whose tasks are worked by the `demo-worker` profile (a
// fake worker that heartbeats, comments and completes), so cards visibly move on a fresh install.
import fs from "node:fs";
import path from "node:path";
import { type BoardLocation, createBoard, homeConfigPath } from "@kanban/db";
import { openBoard } from "@kanban/kernel";

export function seedDemo(loc: BoardLocation, root: string): { board: string; tasks: number } {
  const file = homeConfigPath(loc.home);
  let config: Record<string, unknown> = {};
  try {
    config = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
  } catch {
    config = {};
  }
  const profiles = (config.profiles ?? {}) as Record<string, unknown>;
  profiles["demo-worker"] = {
    command: [process.execPath, path.join(root, "scripts", "demo-worker.mjs"), "{task_id}"],
    description: "fake worker for the demo board: heartbeats, comments, then completes",
  };
  const kanban = { dispatch_interval_seconds: 2, ...((config.kanban ?? {}) as Record<string, unknown>) };
  fs.writeFileSync(file, `${JSON.stringify({ ...config, kanban, profiles }, null, 2)}\n`);

  createBoard(loc, "demo", { name: "Demo", description: "Cards worked by a fake worker" });
  const board = openBoard({ location: loc, board: "demo" });
  try {
    if (board.listTasks({ include_archived: true }).length > 0) return { board: "demo", tasks: 0 };
    const w = "demo-worker";
    const design = board.createTask({ title: "Design the export format", assignee: w, priority: 2, body: "Pick JSON lines vs CSV.\n\n- keep it streamable" });
    const impl = board.createTask({ title: "Implement the exporter", assignee: w, parents: [design.id] });
    const docs = board.createTask({ title: "Document the export command", assignee: w, parents: [impl.id] });
    board.createTask({ title: "Benchmark export of 1M rows", assignee: w, parents: [impl.id], tenant: "perf" });
    board.createTask({ title: "Ask legal about data retention", assignee: w, initial_status: "blocked", body: "Waiting on an answer." });
    board.createTask({ title: "Idea: incremental exports", triage: true });
    board.addComment(docs.id, "you", "Screenshots welcome.");
    return { board: "demo", tasks: 6 };
  } finally {
    board.close();
  }
}
