import type { SqlContext } from "../port.ts";
import { PgSession } from "./session.ts";

/**
 * The highest event id a reader that resumes "after id N" may read up to, or null when every id it
 * can see is final (SQLite: one writer, so ids commit in id order). On PostgreSQL, claims run as
 * shared writers and may commit their events out of id order: see PgSession.settledEventId.
 *
 * A task's own events need no bound: every writer of a task's events either holds the board's lock
 * exclusively or (a shared claim) holds the task's row lock, so they commit in id order per task.
 */
export async function eventReadBound(ctx: SqlContext): Promise<number | null> {
  if (ctx.dialect !== "postgres") return null;
  const session = (ctx as SqlContext & { session?: unknown }).session ?? ctx;
  return session instanceof PgSession ? await session.settledEventId() : null;
}
