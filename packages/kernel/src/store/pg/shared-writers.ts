import type { BeginRead, SqlContext } from "../port.ts";
import { CLAIM_HEAD_COLUMNS, type ClaimHead, claimHeadFromRow } from "../sqlite/claims.ts";
import { RESPAWN_FACTS_COLUMNS, type RespawnFactsRow, respawnFactsFromRow } from "../sqlite/respawn-reads.ts";
import { probeExists } from "./probe-exists.ts";

/**
 * The writers that no longer take a PostgreSQL board's one writer lock (issue 14's relaxation):
 * claim walks (claimNext, "FOR UPDATE SKIP LOCKED"), claims of one task and completions. They run as shared writers
 * (PgSession's `{ shared: true }`): shared writers run alongside each other, and every other write
 * transaction of the board still runs alone, so a shared writer only ever races other shared ones.
 * Each makes itself safe against those with the row lock of the one task it writes, taken first:
 *
 * - A walk locks each lane row it is about to act on ({@link lockFirstReadyTask}); a row another writer
 *   holds is passed over at once instead of waited for, and everything the walk then writes for that
 *   task (the default assignee, the respawn guard's event, the claim, its run and its event) happens
 *   under that lock. The claim's compare-and-swap and fencing (claim_lock, run id) are the same
 *   statements as on SQLite.
 * - A claim of one task (claimTask) and a completion ({@link taskRowTx}) lock their task's row and
 *   wait for it: two of them on one task, or one and a walk that took the task, then run in some
 *   serial order, as the board's lock made them. Everything else they write is the task's own (its
 *   row, its runs, its event). Shared writers only move tasks towards running and done, so a parent
 *   the claim's check reads as done stays done; one it reads as unfinished that completes meanwhile
 *   promotes the child again afterwards (the completion's re-gate of its children runs exclusively).
 *
 * No shared writer waits for a lock while holding another task's, so they cannot deadlock. A task's
 * events are written only under its row lock or by an exclusive writer, so they still commit in id
 * order per task; across the board they do not, which the board-wide event readers allow for
 * (PgSession.settledEventId).
 *
 * Rules that count across tasks cannot be decided from one row, so a walk that needs one runs as
 * the board's one writer, as before:
 * - a per-profile cap (`maxPerProfile`): two walks would each see the same running count;
 * - an open incident (`kanban_incidents.closed_at IS NULL`): its pause lets one probe through, and
 *   two walks would each let one through. Incidents are opened by exclusive writers only, so a
 *   walk that found none inside its shared transaction sees none appear before it commits.
 */
export async function sharedClaimWalk<T>(
  ctx: SqlContext,
  needsBoardView: boolean,
  walk: (first: FirstLock | null) => Promise<T>,
  /** The walk's first row lock, when it can be known before its transaction (null: the walk sends it). */
  plan?: () => Promise<{ ids: string[]; commentsFrom: number } | null>,
): Promise<T> {
  if (ctx.dialect !== "postgres" || needsBoardView || ctx.inTransaction)
    return await ctx.tx(async () => await walk(null));
  const planned = plan === undefined ? null : await plan();
  // The incident check travels with BEGIN (no round trip of its own), and so does the first row lock
  // when it was planned: a steady claim is then BEGIN with both, the claim's write, and COMMIT.
  const probe: BeginRead = { sql: ANY_OPEN_INCIDENT_SQL };
  const lock: BeginRead | null =
    planned === null ? null : { sql: LOCK_FIRST_READY_SQL, args: [planned.commentsFrom, JSON.stringify(planned.ids)] };
  const result = await ctx.tx(
    async () => {
      if ((probe.rows ?? (await ctx.all(probe.sql))).length > 0) return EXCLUSIVE;
      // Not sent with BEGIN (a value or a pooler that does not allow it): the walk locks for itself.
      const first =
        planned === null || lock?.rows === undefined ? null : { ids: planned.ids, locked: lockedOf(lock.rows[0]) };
      return await walk(first);
    },
    { shared: true, withBegin: lock === null ? [probe] : [probe, lock] },
  );
  // An open incident: the walk runs as the board's one writer. A row the shared transaction locked
  // was let go at its end.
  return result === EXCLUSIVE ? await ctx.tx(async () => await walk(null)) : (result as T);
}

/** What {@link lockFirstReadyTask} answers: the row locked, with its facts, or false when none was. */
export type LockedRow = false | { id: string; facts: RespawnFactsRow; head: ClaimHead };

/** A walk's first row lock, made with its BEGIN: the ids it chose among, and what it locked. */
export interface FirstLock {
  ids: readonly string[];
  locked: LockedRow;
}

const EXCLUSIVE: unique symbol = Symbol("exclusive");

const ANY_OPEN_INCIDENT_SQL = "SELECT 1 AS one FROM kanban_incidents WHERE closed_at IS NULL LIMIT 1";

/**
 * A write transaction on one task (a claim, a completion): on PostgreSQL a shared writer holding that task's
 * row lock (see the module comment); elsewhere, and inside a transaction already open, `ctx.tx`.
 *
 * `lockRead` (a `SELECT … FROM tasks WHERE id = ?`) makes the lock statement that read too, and `fn`
 * gets its row (`{ row }`, undefined for an unknown id): one round trip instead of two. Where no
 * such read was made (SQLite, a transaction already open) `fn` gets null and reads for itself.
 *
 * `first` (PostgreSQL, in the shared writer's own transaction only) is tried before the lock
 * statement: a write that decides everything in its one statement, writing nothing when it does not
 * apply. Its answer, when not null, is the transaction's (`fn` is not called); null goes on as above.
 */
export async function taskRowTx<T>(
  ctx: SqlContext,
  id: string,
  fn: (locked: { row: unknown } | null) => Promise<T>,
  opts: { joinOpen?: boolean; lockRead?: string; first?: () => Promise<T | null> } = {},
): Promise<T> {
  // A caller that lets any throw end its whole transaction (a claim walk) gains nothing from a
  // savepoint, and on PostgreSQL each savepoint costs two round trips: it joins the open transaction.
  if (opts.joinOpen === true && ctx.inTransaction) return await fn(null);
  if (ctx.dialect !== "postgres" || ctx.inTransaction) return await ctx.tx(async () => await fn(null));
  const { lockRead, first } = opts;
  return await ctx.tx(
    async () => {
      const done = first === undefined ? null : await first();
      if (done !== null) return done;
      if (lockRead === undefined) {
        await ctx.get("SELECT 1 AS one FROM tasks WHERE id = ? FOR UPDATE", id);
        return await fn(null);
      }
      return await fn({ row: await ctx.get(`${lockRead} FOR UPDATE`, id) });
    },
    { shared: true },
  );
}

/**
 * Locks, for this walk's transaction, the first of `ids` (in lane order) that is still ready,
 * unclaimed and not locked by another walk, and answers it with its claim head and respawn-guard
 * facts (one round trip for the lock and both reads); false when none is: the walk passes those rows
 * over, as it does rows another claimer took. The claim then need not read its head again: the row
 * is locked, so no other writer changes it in between. Walks that run side by side read the same lane in the same
 * order, so row by row each would try the rows the others just took (four to five lock attempts per
 * claim at eight walks); one statement passes over all of those. SQLite's walk holds the board's one
 * writer and needs no row lock.
 */
export async function lockFirstReadyTask(
  ctx: SqlContext,
  ids: readonly string[],
  commentsFrom: number,
): Promise<LockedRow> {
  return lockedOf(await ctx.get(LOCK_FIRST_READY_SQL, commentsFrom, JSON.stringify(ids)));
}

function lockedOf(found: unknown): LockedRow {
  const row = found as Record<string, unknown> | undefined;
  return row === undefined
    ? false
    : { id: String(row.id), facts: respawnFactsFromRow(row), head: claimHeadFromRow(row) };
}

/**
 * The first of a list of ids (one parameter, a JSON array, in the walk's lane order) that is still
 * ready, unclaimed and not locked by another writer, locked for the statement's transaction:
 * `SELECT <list>` over `tasks t` goes before it. The ids are probed one by one by key, in the list's
 * order, and the first row that locks ends the scan (the ordinality keeps the order without a sort;
 * the lock is taken inside the lateral probe, so a row passed over is never locked). Sorting the rows
 * by the lane's columns instead made PostgreSQL find all of them first: about 40 buffers a claim
 * against 8, and a plan that could turn into a scan of every ready task. `NULLS LAST` is spelled out
 * because translate.ts would otherwise add SQLite's NULL order, and the ordinality's own order (the
 * one that spares the sort) is ascending with NULLs last.
 */
export const FROM_FIRST_FREE_OF_IDS = `FROM json_array_elements_text(CAST(? AS json)) WITH ORDINALITY AS k(id, n)
  CROSS JOIN LATERAL (SELECT * FROM tasks t WHERE t.id = k.id AND t.status = 'ready' AND t.claim_lock IS NULL
                      FOR UPDATE SKIP LOCKED) t
  ORDER BY k.n NULLS LAST LIMIT 1`;

const LOCK_FIRST_READY_SQL = probeExists(
  `SELECT t.id, ${CLAIM_HEAD_COLUMNS}, ${RESPAWN_FACTS_COLUMNS} ${FROM_FIRST_FREE_OF_IDS}`,
);
