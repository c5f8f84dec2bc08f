import path from "node:path";
import type Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { invariantViolations, openReader } from "./support/board-checks.ts";
import { makeHome, type TempHome, waitFor } from "./support/env.ts";
import { type Serve, startKanbanServe } from "./support/kanban-serve.ts";
import { ProcessTracker } from "./support/processes.ts";
import { callProcedure, dataOf } from "./support/trpc-http.ts";

/**
 * Server crash: `kanban serve` is SIGKILLed while clients write to it. A write the server
 * acknowledged was committed first, so it must be in the database afterwards, the file must pass
 * `PRAGMA integrity_check`, and a restarted server must serve it.
 */
const WRITERS = 6;
const ROUNDS = 2;

const procs = new ProcessTracker();
let home: TempHome | undefined;
let reader: Database.Database | undefined;

afterEach(async () => {
  await procs.killAll();
  reader?.close();
  home?.cleanup();
  home = undefined;
  reader = undefined;
});

interface Acked {
  tasks: Map<string, { title: string; body: string }>;
  comments: Map<number, { task_id: string; body: string }>;
}

/** One client: creates a task, comments on it, repeats; records what the server acknowledged; stops at the first failure. */
async function writer(url: string, name: string, acked: Acked, stop: () => boolean): Promise<number> {
  let failures = 0;
  for (let i = 0; !stop(); i++) {
    const title = `${name} task ${i}`;
    const body = `${"payload ".repeat(1 + (i % 50))}${name}/${i}`;
    try {
      const created = await callProcedure(url, "tasks.create", "mutation", { title, body, assignee: "nobody" }, 10_000);
      if (created.status !== 200) throw new Error(`create: ${created.status} ${created.text}`);
      const id = dataOf<{ task: { id: string } }>(created).task.id;
      acked.tasks.set(id, { title, body });
      const comment = `${name} comment ${i} on ${id}`;
      const added = await callProcedure(
        url,
        "comments.add",
        "mutation",
        { task_id: id, body: comment, author: name },
        10_000,
      );
      if (added.status !== 200) throw new Error(`comment: ${added.status} ${added.text}`);
      acked.comments.set(dataOf<{ comment_id: number }>(added).comment_id, { task_id: id, body: comment });
    } catch {
      // The server died under this request: nothing was acknowledged, so nothing is owed.
      failures++;
      return failures;
    }
  }
  return failures;
}

function checkDatabase(db: Database.Database, acked: Acked): void {
  expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
  expect(invariantViolations(db)).toEqual([]);
  const task = db.prepare("SELECT title, body FROM tasks WHERE id = ?");
  const missingTasks = [...acked.tasks].filter(([id, t]) => {
    const row = task.get(id) as { title: string; body: string } | undefined;
    return row?.title !== t.title || row.body !== t.body;
  });
  expect(missingTasks).toEqual([]);
  const comment = db.prepare("SELECT task_id, body FROM task_comments WHERE id = ?");
  const missingComments = [...acked.comments].filter(([id, c]) => {
    const row = comment.get(id) as { task_id: string; body: string } | undefined;
    return row?.task_id !== c.task_id || row.body !== c.body;
  });
  expect(missingComments).toEqual([]);
}

describe("server crash", () => {
  it(`kanban serve SIGKILLed under a write load (${ROUNDS} rounds): every acknowledged write survives, integrity_check is ok`, async () => {
    home = makeHome("server-crash");
    const acked: Acked = { tasks: new Map(), comments: new Map() };
    let serve: Serve = await startKanbanServe(procs, home.env);
    for (let round = 0; round < ROUNDS; round++) {
      const before = acked.tasks.size;
      let killed = false;
      const writers = Array.from({ length: WRITERS }, (_, w) =>
        writer(serve.url, `r${round}w${w}`, acked, () => killed),
      );
      // Kill once the load is well under way, with every writer mid-request.
      await waitFor(() => acked.tasks.size - before >= 150, "150 acknowledged creates", 30_000, 10);
      process.kill(serve.pid, "SIGKILL");
      killed = true;
      expect((await serve.exited).signal).toBe("SIGKILL");
      const failures = (await Promise.all(writers)).reduce((a, b) => a + b, 0);
      // At least one request was in flight when the server died (most writers are always mid-request).
      expect(failures).toBeGreaterThan(0);

      reader = openReader(path.join(home.home, "kanban.db"));
      checkDatabase(reader, acked);
      reader.close();
      reader = undefined;

      // A restarted server serves every acknowledged write.
      serve = await startKanbanServe(procs, home.env);
      // tasks.list is paged: follow next_cursor to the end.
      const byId = new Map<string, string>();
      let cursor: string | null = null;
      do {
        const page: { tasks: { id: string; title: string }[]; next_cursor: string | null } = dataOf(
          await callProcedure(serve.url, "tasks.list", "query", { limit: 1000, cursor }),
        );
        for (const t of page.tasks) byId.set(t.id, t.title);
        cursor = page.next_cursor;
      } while (cursor !== null);
      expect([...acked.tasks].filter(([id, t]) => byId.get(id) !== t.title)).toEqual([]);
      const sample = [...acked.comments].filter((_, i) => i % 5 === 0);
      for (const [id, c] of sample) {
        const got = dataOf<{ comments: { id: number; body: string }[] }>(
          await callProcedure(serve.url, "comments.list", "query", { task_id: c.task_id }),
        );
        expect(got.comments.find((x) => x.id === id)?.body).toBe(c.body);
      }
    }
    console.log(
      `server crash: ${acked.tasks.size} tasks and ${acked.comments.size} comments acknowledged across ${ROUNDS} kills, all present`,
    );
  }, 90_000);
});
