import type { BoardContext } from "../../context.ts";

// Reads that confine an API caller to its tenant or its run (moved from the API's routers and run-scope).

/** Ids of every task of one tenant. */
export async function tenantTaskIds(ctx: BoardContext, tenant: string): Promise<Set<string>> {
  return new Set(
    ((await ctx.all("SELECT id FROM tasks WHERE tenant = ?", tenant)) as { id: string }[]).map((r) => r.id),
  );
}

/** Whether task `id` was created by `profile` at or after `since`, in `tenant` (null = no tenant). */
export async function createdBySince(
  ctx: BoardContext,
  id: string,
  profile: string,
  since: number,
  tenant: string | null,
): Promise<boolean> {
  return (
    (await ctx.get(
      "SELECT 1 FROM tasks WHERE id = ? AND created_by = ? AND created_at >= ? AND tenant IS ?",
      id,
      profile,
      since,
      tenant,
    )) !== undefined
  );
}

/** Archived tasks with a scratch workspace: the directories maintenance may remove. */
export async function archivedScratchTasks(
  ctx: BoardContext,
): Promise<{ id: string; workspace_kind: string; workspace_path: string | null }[]> {
  return (await ctx.all(
    "SELECT id, workspace_kind, workspace_path FROM tasks WHERE status = 'archived' AND workspace_kind = 'scratch'",
  )) as {
    id: string;
    workspace_kind: string;
    workspace_path: string | null;
  }[];
}
