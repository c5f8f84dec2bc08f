/**
 * The tenant whose tasks a task may draw on (parent handoffs, the assignee's recent work, ids a
 * completion mentions, an idempotency key): its own. A task with no tenant (NULL or blank) belongs
 * to the operator, who sees the whole board through the API, so it is confined to nothing: null.
 *
 * This matches the rule for callers (ScopedBoard, scoped-board.ts): a tenant token sees only its
 * tenant's tasks, never the operator's or another tenant's; an admin token sees every task.
 */
export function tenantScope(tenant: string | null | undefined): string | null {
  return tenant !== null && tenant !== undefined && tenant.trim() !== "" ? tenant : null;
}
