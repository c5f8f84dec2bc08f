import type { SqlContext } from "./session.ts";

// Saved views (`kanban_views`, migration 0009/0010): a board's filters kept under a name, per owner
// ('' is the operator's, else a tenant's).

/** A `kanban_views` row as the kernel reads it; `query` is the stored JSON text. */
export interface ViewRow {
  name: string;
  query: string;
  created_by: string | null;
  updated_at: number;
}

/** The owner's views, by name. */
export async function viewRows(ctx: SqlContext, owner: string): Promise<ViewRow[]> {
  const rows = (await ctx.all(
    "SELECT name, query, created_by, updated_at FROM kanban_views WHERE tenant = ? ORDER BY name",
    owner,
  )) as Record<string, unknown>[];
  return rows.map((r) => ({ ...(r as unknown as ViewRow), updated_at: Number(r.updated_at) }));
}

/** Saves a view under its name, replacing the owner's view of that name. */
export async function upsertViewRow(
  ctx: SqlContext,
  owner: string,
  row: { name: string; query: string; created_by: string | null; updated_at: number },
): Promise<void> {
  await ctx.run(
    `INSERT INTO kanban_views (name, tenant, query, created_by, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (tenant, name) DO UPDATE SET query = excluded.query, created_by = excluded.created_by,
         updated_at = excluded.updated_at`,
    row.name,
    owner,
    row.query,
    row.created_by,
    row.updated_at,
  );
}

/** Deletes the owner's view of that name; false when there was none. */
export async function deleteViewRow(ctx: SqlContext, owner: string, name: string): Promise<boolean> {
  return (await ctx.run("DELETE FROM kanban_views WHERE tenant = ? AND name = ?", owner, name)).changes > 0;
}
