/** Where a task's worker runs: a fresh scratch directory, a git worktree, or a given directory. */
export const WORKSPACE_KINDS = ["scratch", "worktree", "dir"] as const;
export type WorkspaceKind = (typeof WORKSPACE_KINDS)[number];

export function isWorkspaceKind(value: string): value is WorkspaceKind {
  return (WORKSPACE_KINDS as readonly string[]).includes(value);
}

/** Longest title a task may have, in characters; every entry point (API, CLI, MCP tools) refuses more. */
export const TITLE_MAX = 500;
