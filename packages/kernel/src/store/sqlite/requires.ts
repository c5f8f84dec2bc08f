import type { SqlContext } from "../port.ts";

// The labels tasks require (`kanban_task_requires`, migration 0004): a side table, so Hermes' `tasks`
// keeps its columns. Every read takes a batch of ids, so a list or a board costs one statement.

/** Replaces the labels `id` requires (`labels` already normalised). */
export async function setRequires(ctx: SqlContext, id: string, labels: readonly string[]): Promise<void> {
  await ctx.run("DELETE FROM kanban_task_requires WHERE task_id = ?", id);
  for (const label of labels)
    await ctx.run("INSERT INTO kanban_task_requires (task_id, label) VALUES (?, ?)", id, label);
}

/** The labels each of `ids` requires, sorted; ids that require nothing are absent. */
export async function requiresOf(ctx: SqlContext, ids: readonly string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (ids.length === 0) return out;
  const rows = (await ctx.all(
    "SELECT task_id, label FROM kanban_task_requires WHERE task_id IN (SELECT value FROM json_each(?)) ORDER BY task_id, label",
    JSON.stringify(ids),
  )) as { task_id: string; label: string }[];
  for (const r of rows) {
    const list = out.get(r.task_id);
    if (list) list.push(r.label);
    else out.set(r.task_id, [r.label]);
  }
  return out;
}

/** The labels one task requires (`[]` when none). */
export async function requiresOfTask(ctx: SqlContext, id: string): Promise<string[]> {
  return (await requiresOf(ctx, [id])).get(id) ?? [];
}

/**
 * The labels of every ready, unclaimed task that requires any (the claim walk's routing): one read
 * per walk, however long the lane. Tasks with requirements are few, so this stays small.
 *
 * The uncorrelated EXISTS is a one-time test (PostgreSQL plans it as a gate over the whole join, SQLite
 * evaluates it once): a board where no task requires anything reads one empty table and no lane. On
 * PostgreSQL the join alone, planned before the tables' first ANALYZE (a board just filled, or a
 * pooled connection's generic plan made then), probed the labels of every ready task: 10.5 ms and
 * 6,000 buffers at 3,000 ready tasks, against 0.07 ms with the gate.
 */
export async function readyRequires(ctx: SqlContext): Promise<Map<string, string[]>> {
  const rows = (await ctx.all(
    "SELECT r.task_id, r.label FROM kanban_task_requires r JOIN tasks t ON t.id = r.task_id WHERE EXISTS (SELECT 1 FROM kanban_task_requires) AND t.status = 'ready' AND t.claim_lock IS NULL ORDER BY r.task_id, r.label",
  )) as { task_id: string; label: string }[];
  const out = new Map<string, string[]>();
  for (const r of rows) {
    const list = out.get(r.task_id);
    if (list) list.push(r.label);
    else out.set(r.task_id, [r.label]);
  }
  return out;
}

/** Deletes a task's labels (with the task: see deleteTaskRows). */
export async function deleteRequires(ctx: SqlContext, id: string): Promise<void> {
  await ctx.run("DELETE FROM kanban_task_requires WHERE task_id = ?", id);
}
