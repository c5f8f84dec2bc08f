import type { BoardContext } from "./context.ts";
import { invalid, notFound } from "./errors.ts";
import { LABEL_RE } from "./labels.ts";
import {
  type HostRowData,
  hostRow,
  hostRows,
  hostRunStates,
  renewHostRuns,
  touchHost,
  upsertHost,
} from "./store/sqlite/hosts.ts";

// Remote hosts (`kanban-dispatcher --server`): their rows, and the leases of their runs. A host's
// heartbeat renews all of its runs at once; a run that is no longer the host's (reclaimed while it
// was silent, cancelled, settled by someone else) is answered back as `revoked`, so the host stops
// that worker before it claims anything new.

export interface HostHelloInput {
  host_id: string;
  name: string | null;
  labels: readonly string[];
  version: string | null;
  capacity: number | null;
  /** The tenant of the host's token (null: every tenant). */
  tenant: string | null;
  lease_seconds: number;
  /** Runs the host still works on (from its own records, across its restart). */
  runs: readonly number[];
}

export interface HostHeartbeatInput {
  host_id: string;
  /** Workers running on the host now. */
  running: number;
  runs: readonly number[];
  lease_seconds: number;
}

/** A run the host named that is not its own any more; `task_id` null when the board has no such run. */
export interface RevokedRun {
  run_id: number;
  task_id: string | null;
}

export interface HostRunsAnswer {
  revoked: RevokedRun[];
}

/** A host as the board shows it. */
export interface HostView {
  id: string;
  name: string | null;
  labels: string[];
  version: string | null;
  capacity: number | null;
  running: number;
  tenant: string | null;
  first_seen_at: number;
  last_seen_at: number;
  lease_seconds: number;
  /** Heard from within its lease (`last_seen_at + lease_seconds >= now`). */
  connected: boolean;
}

function leaseOf(value: number): number {
  if (!Number.isInteger(value) || value < 1) throw invalid("lease_seconds must be an integer >= 1");
  return value;
}

function hostLabels(labels: readonly string[]): string[] {
  const out = new Set<string>();
  for (const raw of labels) {
    const l = String(raw).trim().toLowerCase();
    if (!LABEL_RE.test(l)) throw invalid(`invalid host label '${String(raw).slice(0, 80)}'`);
    out.add(l);
  }
  return [...out].sort();
}

function runIds(runs: readonly number[]): number[] {
  const out = new Set<number>();
  for (const r of runs) {
    if (!Number.isSafeInteger(r) || r < 1) throw invalid(`invalid run id ${String(r)}`);
    out.add(r);
  }
  return [...out];
}

/** Whether `claim_lock` is the host's (`<host_id>:<pid>`). */
export function isHostLock(hostId: string, lock: string | null): boolean {
  return lock?.startsWith(`${hostId}:`) === true;
}

/**
 * Renews the named runs that are still the host's and lists the others, inside the caller's
 * transaction. Still the host's: the run is open, its task is running with it as the current run,
 * and the task's claim lock is the host's.
 */
async function renewAndRevoke(
  ctx: BoardContext,
  hostId: string,
  runs: number[],
  lease: number,
): Promise<HostRunsAnswer> {
  if (runs.length === 0) return { revoked: [] };
  const now = ctx.now();
  const states = new Map((await hostRunStates(ctx, runs)).map((s) => [Number(s.run_id), s]));
  const revoked: RevokedRun[] = [];
  const own: number[] = [];
  for (const run of runs) {
    const s = states.get(run);
    const mine =
      s !== undefined &&
      s.ended_at === null &&
      s.task_status === "running" &&
      s.current_run_id === run &&
      isHostLock(hostId, s.claim_lock);
    if (mine) own.push(run);
    else revoked.push({ run_id: run, task_id: s?.task_id ?? null });
  }
  await renewHostRuns(ctx, hostId, own, now, now + lease);
  return { revoked };
}

/** A host (re)connects: its row is created or refreshed, its runs renewed or revoked, in one transaction. */
export async function hostHello(ctx: BoardContext, input: HostHelloInput): Promise<HostRunsAnswer> {
  const lease = leaseOf(input.lease_seconds);
  const labels = hostLabels(input.labels);
  const runs = runIds(input.runs);
  return await ctx.tx(async () => {
    const now = ctx.now();
    await upsertHost(ctx, {
      id: input.host_id,
      name: input.name,
      labels: JSON.stringify(labels),
      version: input.version,
      capacity: input.capacity,
      running: runs.length,
      tenant: input.tenant,
      first_seen_at: now,
      last_seen_at: now,
      lease_seconds: lease,
    });
    return await renewAndRevoke(ctx, input.host_id, runs, lease);
  });
}

/** A host's heartbeat: NOT_FOUND for a host that never said hello (it must send hello first). */
export async function hostHeartbeat(ctx: BoardContext, input: HostHeartbeatInput): Promise<HostRunsAnswer> {
  const lease = leaseOf(input.lease_seconds);
  const runs = runIds(input.runs);
  const running = Number.isInteger(input.running) && input.running >= 0 ? input.running : runs.length;
  return await ctx.tx(async () => {
    if (!(await touchHost(ctx, input.host_id, ctx.now(), running, lease)))
      throw notFound(`host ${input.host_id} is not known; send hosts.hello first`, { host_id: input.host_id });
    return await renewAndRevoke(ctx, input.host_id, runs, lease);
  });
}

function hostView(row: HostRowData, now: number): HostView {
  let labels: string[] = [];
  try {
    const parsed: unknown = JSON.parse(row.labels ?? "[]");
    if (Array.isArray(parsed)) labels = parsed.filter((l): l is string => typeof l === "string");
  } catch {
    labels = []; // a hand-edited row must not take the hosts list down
  }
  return {
    id: row.id,
    name: row.name,
    labels,
    version: row.version,
    capacity: row.capacity === null ? null : Number(row.capacity),
    running: Number(row.running),
    tenant: row.tenant,
    first_seen_at: Number(row.first_seen_at),
    last_seen_at: Number(row.last_seen_at),
    lease_seconds: Number(row.lease_seconds),
    connected: Number(row.last_seen_at) + Number(row.lease_seconds) >= now,
  };
}

/** Every host (tenant null), or one tenant's hosts and those serving every tenant. */
export async function listHosts(ctx: BoardContext, tenant: string | null): Promise<HostView[]> {
  const now = ctx.now();
  return (await hostRows(ctx, tenant)).map((r) => hostView(r, now));
}

export async function getHost(ctx: BoardContext, id: string): Promise<HostView | null> {
  const row = await hostRow(ctx, id);
  return row === null ? null : hostView(row, ctx.now());
}
