// Runs the product on the embedded default: for now, initialises the default board under
// KANBAN_HOME (default ~/.kanban) and prints where it is and what it holds.
import { boardDbPath, boardLocationFromEnv, createBoard, currentBoard, openBoardDatabase } from "@kanban/db";

const loc = boardLocationFromEnv(process.env);
const slug = currentBoard(loc);
createBoard(loc, slug);
const db = openBoardDatabase(loc, slug);
const counts = db.sqlite.prepare("SELECT status, count(*) AS n FROM tasks GROUP BY status ORDER BY status").all() as {
  status: string;
  n: number;
}[];
console.log(`Kanban board '${slug}' ready at ${boardDbPath(loc, slug)} (journal: ${db.journalMode})`);
console.log(counts.length === 0 ? "No tasks yet." : counts.map((c) => `  ${c.status}: ${c.n}`).join("\n"));
db.close();
