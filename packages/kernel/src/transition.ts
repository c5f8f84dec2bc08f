import type { BoardContext } from "./context.ts";
import type { TaskStatus } from "./constants.ts";
import { TRANSITIONS, type TransitionVerb } from "./transitions.ts";
import type { Task } from "./types.ts";

/** One status write: where it lands, what else it sets, and what else must hold for it to happen. */
export interface TransitionWrite {
  /** The status to land in; must be one of the verb's to-states. */
  to: TaskStatus;
  /**
   * The status this transaction read: the swap then also requires it to be unchanged (a stricter
   * compare-and-swap than "any of the verb's from-states").
   */
  from?: string;
  /** More `column = expression` assignments after `status`, with `?` placeholders. */
  set?: string;
  setArgs?: readonly unknown[];
  /** More conditions (a fence such as `claim_lock IS ? AND current_run_id IS ?`). */
  where?: string;
  whereArgs?: readonly unknown[];
}

function quoted(states: readonly string[]): string {
  return states.length === 1 ? `= '${states[0]}'` : `IN (${states.map((s) => `'${s}'`).join(", ")})`;
}

const FROM_SQL = new Map<TransitionVerb, string>(
  Object.entries(TRANSITIONS).map(([verb, t]) => [verb as TransitionVerb, quoted(t.from)]),
);

/** The verb's from-states as a SQL predicate on `status` (`= 'ready'` or `IN ('a', 'b')`). */
export function fromStatesSql(verb: TransitionVerb): string {
  return FROM_SQL.get(verb) as string;
}

/**
 * Built statements by shape: verb → to → set → where → [pinned to a read status][RETURNING]. Nested
 * maps keyed by the callers' (constant) strings, so a hot path pays a few lookups, not a string build.
 */
const SQL_CACHE = new Map<string, Map<string, Map<string, Map<string, string[]>>>>();

function child<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let v = map.get(key);
  if (v === undefined) {
    v = make();
    map.set(key, v);
  }
  return v;
}

/**
 * The compare-and-swap's SQL. The statuses are SQL literals taken from the table (never from a
 * caller's string: `to` is checked against it first), so each shape is one cached statement.
 */
function transitionSql(verb: TransitionVerb, w: TransitionWrite, returning: boolean): string {
  const shapes = child(
    child(
      child(
        child(SQL_CACHE, verb, () => new Map()),
        w.to,
        () => new Map(),
      ),
      w.set ?? "",
      () => new Map(),
    ),
    w.where ?? "",
    () => [],
  );
  const slot = (w.from !== undefined ? 2 : 0) + (returning ? 1 : 0);
  const cached = shapes[slot];
  if (cached !== undefined) return cached;
  if (!(TRANSITIONS[verb].to as readonly string[]).includes(w.to)) {
    throw new Error(`state machine: '${verb}' cannot land in '${w.to}'`);
  }
  const sql = `UPDATE tasks SET status = '${w.to}'${w.set ? `, ${w.set}` : ""} WHERE id = ? AND status ${fromStatesSql(verb)}${
    w.from !== undefined ? " AND status = ?" : ""
  }${w.where ? ` AND ${w.where}` : ""}${returning ? " RETURNING *" : ""}`;
  shapes[slot] = sql;
  return sql;
}

function args(id: string, w: TransitionWrite): unknown[] {
  const out: unknown[] = w.setArgs ? [...w.setArgs, id] : [id];
  if (w.from !== undefined) out.push(w.from);
  if (w.whereArgs) out.push(...w.whereArgs);
  return out;
}

/**
 * The single door for status changes: `UPDATE tasks SET status = <to>, … WHERE id = ? AND status IN
 * (<from-states of verb>) [AND status = <read>] [AND <fence>]`. Returns how many rows moved (0 or 1):
 * 0 means the task was not in a state the verb may leave, or changed concurrently.
 */
export function transition(ctx: BoardContext, verb: TransitionVerb, id: string, w: TransitionWrite): number {
  return ctx.stmt(transitionSql(verb, w, false)).run(...args(id, w)).changes;
}

/** {@link transition} with `RETURNING *`: the moved row, or null when the swap missed (no second read). */
export function transitionReturning(
  ctx: BoardContext,
  verb: TransitionVerb,
  id: string,
  w: TransitionWrite,
): Task | null {
  return ctx.task(transitionSql(verb, w, true), ...args(id, w));
}
