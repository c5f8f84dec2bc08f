/**
 * SQL fragments several store modules share. Kept here, inside the store, so that no verb holds SQL text.
 */

/**
 * The claim-clearing rule: what every release of a claim sets on the task row (and on a closed run):
 * no lock, no lease, no worker pid. Written once here.
 */
export const CLEAR_CLAIM = "claim_lock = NULL, claim_expires = NULL, worker_pid = NULL";

/**
 * SQL condition confining `<alias>.tenant` to a scope (tenant-scope.ts), with its two parameters
 * (pass {@link tenantScopeArgs}); a null scope matches every row.
 */
export function tenantScopeSql(alias: string): string {
  return `(? IS NULL OR ${alias}.tenant = ?)`;
}

export function tenantScopeArgs(scope: string | null): [string | null, string | null] {
  return [scope, scope];
}

/** {@link tenantScopeSql} for a statement with named parameters: binds `:tenant` (null = every row). */
export function tenantScopeNamedSql(alias: string): string {
  return `(:tenant IS NULL OR ${alias}.tenant = :tenant)`;
}
