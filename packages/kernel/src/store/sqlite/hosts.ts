import type { SqlContext } from "../port.ts";

// Remote hosts (`kanban_hosts`, migration 0004) and the leases of their runs. A remote run's claim
// lock is `<host_id>:<pid>`, so "this host's runs" is a prefix of `claim_lock`, compared with substr
// (host ids are `kh-<hex>`, but a LIKE pattern would still need escaping to be safe).

export interface HostRowData {
  id: string;
  name: string | null;
  /** JSON text of a sorted array, as stored. */
  labels: string | null;
  version: string | null;
  capacity: number | null;
  running: number;
  tenant: string | null;
  first_seen_at: number;
  last_seen_at: number;
  lease_seconds: number;
}

const HOST_COLUMNS = "id, name, labels, version, capacity, running, tenant, first_seen_at, last_seen_at, lease_seconds";

/** Creates the host's row or refreshes it; `first_seen_at` stays the first hello's. */
export async function upsertHost(ctx: SqlContext, row: HostRowData): Promise<void> {
  await ctx.run(
    `INSERT INTO kanban_hosts (${HOST_COLUMNS}) VALUES (:id, :name, :labels, :version, :capacity, :running, :tenant, :first_seen_at, :last_seen_at, :lease_seconds)
     ON CONFLICT (id) DO UPDATE SET name = excluded.name, labels = excluded.labels, version = excluded.version,
       capacity = excluded.capacity, running = excluded.running, tenant = excluded.tenant,
       last_seen_at = excluded.last_seen_at, lease_seconds = excluded.lease_seconds`,
    row,
  );
}

/** A heartbeat's refresh of the row; false when the host never said hello here. */
export async function touchHost(
  ctx: SqlContext,
  id: string,
  at: number,
  running: number,
  leaseSeconds: number,
): Promise<boolean> {
  const r = await ctx.run(
    "UPDATE kanban_hosts SET last_seen_at = ?, running = ?, lease_seconds = ? WHERE id = ?",
    at,
    running,
    leaseSeconds,
    id,
  );
  return r.changes === 1;
}

export async function hostRow(ctx: SqlContext, id: string): Promise<HostRowData | null> {
  return (
    ((await ctx.get(`SELECT ${HOST_COLUMNS} FROM kanban_hosts WHERE id = ?`, id)) as HostRowData | undefined) ?? null
  );
}

/** Every host (tenant null), or those of one tenant and those serving every tenant; by name, then id. */
export async function hostRows(ctx: SqlContext, tenant: string | null): Promise<HostRowData[]> {
  return (await ctx.all(
    `SELECT ${HOST_COLUMNS} FROM kanban_hosts WHERE :tenant IS NULL OR tenant IS NULL OR tenant = :tenant ORDER BY coalesce(name, ''), id`,
    { tenant },
  )) as HostRowData[];
}

/** What the board knows of each run a host named: enough to say whether it is still the host's. */
export interface HostRunState {
  run_id: number;
  task_id: string;
  ended_at: number | null;
  task_status: string | null;
  current_run_id: number | null;
  claim_lock: string | null;
}

export async function hostRunStates(ctx: SqlContext, runIds: readonly number[]): Promise<HostRunState[]> {
  if (runIds.length === 0) return [];
  return (await ctx.all(
    `SELECT r.id AS run_id, r.task_id, r.ended_at, t.status AS task_status, t.current_run_id, t.claim_lock
       FROM task_runs r LEFT JOIN tasks t ON t.id = r.task_id
      WHERE r.id IN (SELECT value FROM json_each(?))`,
    JSON.stringify(runIds),
  )) as HostRunState[];
}

/**
 * Renews the leases of the named runs that are still the host's: their tasks are running, each is its
 * task's current run, and the claim lock is the host's. One UPDATE for the tasks and one for their
 * runs, however many runs the host names.
 */
export async function renewHostRuns(
  ctx: SqlContext,
  hostId: string,
  runIds: readonly number[],
  now: number,
  expires: number,
): Promise<void> {
  if (runIds.length === 0) return;
  const prefix = `${hostId}:`;
  const args = { runs: JSON.stringify(runIds), prefix, n: prefix.length, now, expires };
  await ctx.run(
    `UPDATE tasks SET claim_expires = :expires, last_heartbeat_at = :now
      WHERE status = 'running' AND current_run_id IN (SELECT value FROM json_each(:runs))
        AND substr(claim_lock, 1, :n) = :prefix`,
    args,
  );
  await ctx.run(
    `UPDATE task_runs SET claim_expires = :expires, last_heartbeat_at = :now
      WHERE ended_at IS NULL AND id IN (SELECT value FROM json_each(:runs))
        AND substr(claim_lock, 1, :n) = :prefix`,
    args,
  );
}
