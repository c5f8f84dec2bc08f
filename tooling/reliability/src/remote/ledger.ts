import type Database from "better-sqlite3";
import { waitFor } from "../support/env.ts";
import type { RemoteCluster, RemoteHost } from "./harness.ts";

/**
 * The books of a remote run, kept from outside: the board file (read as an observer), every host's
 * outbox on its disk and every worker's record. "Lost" and "double" are defined here once, so each
 * scenario and the report count them the same way.
 */

export interface TaskRuns {
  id: string;
  status: string;
  completed_runs: number;
  completed_events: number;
  open_runs: number;
}

export function taskRuns(db: Database.Database): TaskRuns[] {
  return db
    .prepare(
      `SELECT t.id, t.status,
         (SELECT count(*) FROM task_runs r WHERE r.task_id = t.id AND r.outcome = 'completed') AS completed_runs,
         (SELECT count(*) FROM task_events e WHERE e.task_id = t.id AND e.kind = 'completed') AS completed_events,
         (SELECT count(*) FROM task_runs r WHERE r.task_id = t.id AND r.ended_at IS NULL) AS open_runs
       FROM tasks t`,
    )
    .all() as TaskRuns[];
}

/** Tasks completed more than once (two completed runs, or two `completed` events). */
export function doubleRuns(db: Database.Database): TaskRuns[] {
  return taskRuns(db).filter((t) => t.completed_runs > 1 || t.completed_events > 1);
}

export interface LateReport {
  task_id: string;
  run_id: number;
  verb: string;
}

export function lateReports(db: Database.Database): LateReport[] {
  const rows = db.prepare("SELECT task_id, payload FROM task_events WHERE kind = 'late_report'").all() as {
    task_id: string;
    payload: string | null;
  }[];
  return rows.map((r) => {
    const p = JSON.parse(r.payload ?? "{}") as { run_id?: number; verb?: string };
    return { task_id: r.task_id, run_id: Number(p.run_id), verb: String(p.verb) };
  });
}

export interface CompletionBooks {
  /** Completions workers made (each ran `kanban complete`, which queues before it sends). */
  made: number;
  /** Accepted by the server (delivered, ok). */
  accepted: number;
  /** Of those, answers that were replays of an earlier delivery. */
  replayed: number;
  /** Refused by fencing and recorded as a late report. */
  late: number;
  /** Each completion that went nowhere, with why (must be empty). */
  lost: string[];
  /**
   * Workers whose `kanban complete` exited non-zero although their completion was not lost
   * (delivered by the host, or recorded late): the worker was told something false.
   */
  cliErrors: string[];
  /** Completions whose worker never saw its CLI return (stopped by its host once the host delivered the entry). */
  unreported: number;
}

/**
 * Accounts for every completion a worker of `hosts` made: each run whose worker ran
 * `kanban complete` (its record) or that has an outbox entry (a worker stopped by its host once the
 * host delivered the entry never writes its record). One is lost when no outbox entry was delivered
 * for it (still pending, or none at all), when the server accepted it yet the run is not the task's
 * completed run, or when it was refused without the late report the design promises.
 */
export function completionBooks(db: Database.Database, hosts: readonly RemoteHost[]): CompletionBooks {
  const completedRun = db
    .prepare("SELECT id FROM task_runs WHERE task_id = ? AND outcome = 'completed'")
    .pluck() as Database.Statement<[string], number>;
  const late = new Set(lateReports(db).map((l) => `${l.run_id}:${l.verb}`));
  const books: CompletionBooks = { made: 0, accepted: 0, replayed: 0, late: 0, lost: [], cliErrors: [], unreported: 0 };
  for (const host of hosts) {
    const pending = host.pending().filter((e) => e.verb === "complete");
    const delivered = new Map(
      host
        .delivered()
        .filter((e) => e.verb === "complete")
        .map((e) => [e.run_id, e]),
    );
    const made = new Map<number, { task: string; cli: string | null }>();
    for (const r of host.workers()) {
      if (r.event !== "complete") continue;
      const cli = r.exit === 0 ? "" : ` (kanban complete exited ${r.exit ?? r.signal}: ${(r.stderr ?? "").trim()})`;
      made.set(r.run, { task: r.task, cli });
    }
    for (const e of [...pending, ...delivered.values()]) {
      if (!made.has(e.run_id)) made.set(e.run_id, { task: e.task_id, cli: null });
    }
    const pendingRuns = new Set(pending.map((e) => e.run_id));
    for (const [run, { task, cli }] of made) {
      books.made++;
      const where = `${host.name} task ${task} run ${run}`;
      const entry = delivered.get(run);
      if (entry === undefined) {
        books.lost.push(
          `${where}: ${pendingRuns.has(run) ? "still pending in the outbox" : "no outbox entry"}${cli ?? ""}`,
        );
        continue;
      }
      if (cli) books.cliErrors.push(`${where}: delivered ${JSON.stringify(entry.answer)}, yet${cli}`);
      if (entry.answer?.ok) {
        books.accepted++;
        if (entry.answer.replayed) books.replayed++;
        if (completedRun.get(task) !== run) books.lost.push(`${where}: accepted, but not the task's completed run`);
      } else if (entry.answer?.code === "STALE_RUN" && late.has(`${run}:complete`)) {
        books.late++;
      } else {
        books.lost.push(`${where}: refused (${JSON.stringify(entry.answer)}) without a late_report`);
      }
    }
    books.unreported += [...made.values()].filter((m) => m.cli === null).length;
  }
  return books;
}

/**
 * Whether the server and `host` agree, as seen from outside:
 * - the server has heard from the host since `sinceMs`;
 * - the host's outbox holds nothing pending;
 * - every task the server has running under this host has a live worker of that run on the host;
 * - every live worker on the host is one of those runs (a revoked run's worker has been stopped).
 * Returns null when consistent, else the first disagreement (for a timeout's message).
 */
export function disagreement(cluster: RemoteCluster, host: RemoteHost, sinceMs: number): string | null {
  const id = host.hostId();
  if (id === null) return "no host id yet";
  const db = cluster.reader();
  const seen = db.prepare("SELECT last_seen_at FROM kanban_hosts WHERE id = ?").pluck().get(id) as number | undefined;
  if (seen === undefined) return "host not registered";
  // last_seen_at is in seconds; the second of the reconnect counts.
  if (seen < Math.floor(sinceMs / 1000)) return `not heard from since the reconnect (last seen ${seen})`;
  const pending = host.pending();
  if (pending.length > 0) return `${pending.length} outbox entries pending`;
  const running = db
    .prepare("SELECT id, current_run_id AS run FROM tasks WHERE status = 'running' AND claim_lock LIKE ?")
    .all(`${id}:%`) as { id: string; run: number }[];
  const live = host.liveWorkers();
  const liveRuns = new Set(live.map((w) => w.run));
  const missing = running.filter((t) => !liveRuns.has(t.run));
  if (missing.length > 0) return `server runs ${missing.map((t) => `${t.id}/${t.run}`).join(", ")} with no live worker`;
  const serverRuns = new Set(running.map((t) => t.run));
  const strays = live.filter((w) => !serverRuns.has(w.run));
  if (strays.length > 0) return `live workers of runs the server does not give this host: ${strays.map((w) => w.run)}`;
  return null;
}

/** Waits until `host` and the server agree; returns the milliseconds it took from `sinceMs`. */
export async function timeToConsistent(
  cluster: RemoteCluster,
  host: RemoteHost,
  sinceMs: number,
  timeoutMs = 90_000,
): Promise<number> {
  let last: string | null = null;
  try {
    await waitFor(
      () => {
        last = disagreement(cluster, host, sinceMs);
        return last === null;
      },
      `${host.name} and the server to agree`,
      timeoutMs,
      100,
    );
  } catch (e) {
    throw new Error(`${(e as Error).message}; last disagreement: ${last}`);
  }
  return Date.now() - sinceMs;
}
