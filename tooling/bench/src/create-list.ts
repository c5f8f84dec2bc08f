import path from "node:path";
import Database from "better-sqlite3";
import { openBoard } from "@kanban/kernel";
import { boardInternals } from "@kanban/kernel/testing";
import { round } from "./stats.ts";

/**
 * Creating tasks one transaction each (the CLI/API path), against raw single-row INSERT
 * transactions with the same PRAGMAs (synchronous=FULL, WAL).
 */
export async function benchCreate(dir: string, quick: boolean) {
  const n = quick ? 1_000 : 10_000;
  const board = openBoard({ path: path.join(dir, "create.db"), warn: () => {} });
  const t0 = performance.now();
  for (let i = 0; i < n; i++)
    await board.createTask({
      title: `task ${i}`,
      assignee: i % 3 === 0 ? null : `p${i % 5}`,
      tenant: i % 2 ? "acme" : null,
    });
  const seconds = (performance.now() - t0) / 1000;
  board.close();
  const raw = new Database(path.join(dir, "create-raw.db"));
  raw.pragma("journal_mode = WAL");
  raw.pragma("synchronous = FULL");
  raw.exec(
    "CREATE TABLE tasks (id TEXT PRIMARY KEY, title TEXT NOT NULL, status TEXT NOT NULL, created_at INTEGER NOT NULL)",
  );
  const insert = raw.prepare("INSERT INTO tasks VALUES (?, ?, 'ready', 1)");
  const tx = raw.transaction((i: number) => insert.run(`t_${i.toString(16).padStart(8, "0")}`, `task ${i}`));
  const r0 = performance.now();
  for (let i = 0; i < n; i++) tx.immediate(i);
  const rawSeconds = (performance.now() - r0) / 1000;
  raw.close();
  return {
    tasks: n,
    tasks_per_s: round(n / seconds),
    raw_inserts_per_s: round(n / rawSeconds),
    ratio: round(rawSeconds / seconds, 2),
  };
}

/** Seeds a realistic board of `n` tasks: mostly done, some ready/todo/running, links and comments. */
export async function seedBoard(file: string, n: number) {
  const board = openBoard({ path: file, warn: () => {} });
  const ids: string[] = [];
  await boardInternals(board).ctx.tx(async () => {
    for (let i = 0; i < n; i++) {
      const parents = i % 10 === 5 && ids.length > 0 ? [ids[ids.length - 1] as string] : [];
      const t = await board.createTask({
        title: `task ${i}`,
        body: "b".repeat(200),
        assignee: `p${i % 5}`,
        parents,
        tenant: i % 2 ? "acme" : "globex",
      });
      ids.push(t.id);
      if (i % 7 === 0) await board.addComment(t.id, "user", "a comment");
    }
  });
  await boardInternals(board).ctx.tx(async () => {
    for (let i = 0; i < n; i++) {
      const id = ids[i] as string;
      const mod = i % 20;
      if (mod < 14) {
        const t = await board.claimTask(id, { claimer: "seed:1" });
        if (t) await board.completeTask(id, { summary: `did ${i}`, expected_run_id: t.current_run_id });
      } else if (mod === 14) {
        await board.claimTask(id, { claimer: "seed:1" });
      }
    }
  });
  board.close();
  return ids;
}
