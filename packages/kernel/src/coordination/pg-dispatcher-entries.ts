import { type DispatcherEntry, type DispatcherTickSummary, judgeDispatcher, type KanbanPostgres } from "@kanban/db";
import { listPgDispatchers } from "./pg-dispatch-coordination.ts";

/**
 * A PostgreSQL board's dispatchers as the board shows them (the same `DispatcherEntry` an SQLite
 * home's status file gives): each row judged by `judgeDispatcher` at `now` (unix seconds, the
 * reader's clock), present while its coordination session holds its registration lock.
 */
export async function pgDispatcherEntries(db: KanbanPostgres, slug: string, now: number): Promise<DispatcherEntry[]> {
  const rows = await listPgDispatchers(db, slug);
  return rows.map((r) => {
    const tick = r.last_tick;
    return {
      id: r.id,
      host: r.host,
      pid: r.pid,
      started_at: r.started_at,
      heartbeat_at: r.heartbeat_at,
      interval_seconds: r.interval_seconds,
      ticks: r.ticks,
      last_tick_at: r.last_tick_at,
      last_tick: tick !== null && typeof tick === "object" ? (tick as DispatcherTickSummary) : null,
      ...judgeDispatcher({ ...r, present: r.session_alive }, now),
    };
  });
}
