import type { ActiveWorker, Board, BoardStats, KnownAssignee } from "@kanban/kernel";

// Workers, stats and assignees are kernel reads (packages/kernel/src/store/sqlite/workers.ts).
export type { ActiveWorker } from "@kanban/kernel";

/** Every open run (a worker that holds or held a claim and has not settled), oldest first. */
export function activeWorkers(
  board: Board,
  tenant: string | null,
): { workers: ActiveWorker[]; count: number; checked_at: number } {
  return board.activeWorkers(tenant);
}

/** The kernel's board stats, or the same numbers over one tenant's tasks only. */
export function statsFor(board: Board, tenant: string | null): BoardStats {
  return board.statsFor(tenant);
}

/** Configured profiles plus the board's assignees; for a tenant, counts cover its tasks only. */
export function assigneesFor(board: Board, profiles: string[], tenant: string | null): KnownAssignee[] {
  return board.assigneesFor(profiles, tenant);
}
