import type { WorkspaceRules } from "@kanban/kernel";
import type { KanbanContext } from "../../context.ts";

/**
 * Where this caller may put a dir:/worktree workspace: a tenant only under config.json's
 * `kanban.workspace_roots` (none configured = scratch only); the operator anywhere. Nobody chooses
 * a scratch path (the kernel refuses one for every caller).
 */
export function workspaceRules(ctx: Pick<KanbanContext, "tenant" | "config">): WorkspaceRules {
  return { allowedWorkspaceRoots: ctx.tenant === null ? null : ctx.config().kanban.workspace_roots };
}
