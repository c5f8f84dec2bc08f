import type { BoardContext } from "../../context.ts";
import { invalid } from "../../errors.ts";
import { LIST_ORDERS, type ListOrder, type ListTasksFilter, listTasksWhere } from "./task-lists.ts";
import type { Task, TaskWarnings } from "../../types.ts";
import type { TaskDto } from "./board-reads.ts";
import { requiresOf } from "./requires.ts";

// `tasks.list`'s keyset pages (moved from the API's queries/task-page.ts as they were).

/**
 * Page bounds of `tasks.list`. Task bodies and results may each be 1 MiB, so a row count alone does
 * not bound a response: a page also stops once its serialised tasks reach `maxBytes`.
 */
export const TASK_PAGE = { defaultLimit: 200, maxLimit: 1000, maxBytes: 4 * 1024 * 1024 } as const;

/**
 * One ORDER BY term; `nullable` columns sort as SQLite sorts NULL (first ascending, last descending),
 * and say what a NULL reads as in the key (a value of the column's own type: PostgreSQL refuses to
 * compare text with 0).
 */
interface SortTerm {
  expr: string;
  dir: "ASC" | "DESC";
  nullable?: "0" | "''";
}

/**
 * The kernel's LIST_ORDERS as keyset terms, each ending in a unique column so that the order is
 * total: a cursor then names exactly one position, and a page continues right after it whatever was
 * inserted meanwhile. Where the kernel's order names no tie-break, ties go by `rowid`: that is
 * insertion order, what an unpaged SQLite list gave (task ids are random, so `id` would shuffle
 * cards created in the same second). Hermes boards may hold a NULL priority, hence `nullable`.
 */
const ORDER_TERMS: Readonly<Record<ListOrder, readonly SortTerm[]>> = {
  created: [
    { expr: "created_at", dir: "ASC" },
    { expr: "id", dir: "ASC" },
  ],
  "created-desc": [
    { expr: "created_at", dir: "DESC" },
    { expr: "id", dir: "DESC" },
  ],
  priority: [
    { expr: "priority", dir: "DESC", nullable: "0" },
    { expr: "created_at", dir: "ASC" },
    { expr: "rowid", dir: "ASC" },
  ],
  "priority-desc": [
    { expr: "priority", dir: "ASC", nullable: "0" },
    { expr: "created_at", dir: "ASC" },
    { expr: "rowid", dir: "ASC" },
  ],
  status: [
    { expr: "status", dir: "ASC" },
    { expr: "created_at", dir: "ASC" },
    { expr: "rowid", dir: "ASC" },
  ],
  assignee: [
    { expr: "assignee", dir: "ASC", nullable: "''" },
    { expr: "created_at", dir: "ASC" },
    { expr: "rowid", dir: "ASC" },
  ],
  title: [
    { expr: "title", dir: "ASC" },
    { expr: "id", dir: "ASC" },
  ],
  updated: [
    { expr: "started_at", dir: "DESC", nullable: "0" },
    { expr: "created_at", dir: "DESC" },
    { expr: "rowid", dir: "DESC" },
  ],
};

/**
 * Terms whose values are never NULL: a nullable column becomes "is it NULL" (1 or 0, placed where
 * SQLite places NULL) followed by the value with NULL read as the term's stand-in, so `=`, `<` and
 * `>` always answer. Both are plain integers and strings on either engine (a cursor holds them).
 */
function keyTerms(order: ListOrder): SortTerm[] {
  return ORDER_TERMS[order].flatMap((t): SortTerm[] =>
    t.nullable
      ? [
          { expr: `(CASE WHEN ${t.expr} IS NULL THEN 1 ELSE 0 END)`, dir: t.dir === "ASC" ? "DESC" : "ASC" },
          { expr: `COALESCE(${t.expr}, ${t.nullable})`, dir: t.dir },
        ]
      : [t],
  );
}

type KeyValue = string | number;

interface Cursor {
  order: ListOrder;
  key: KeyValue[];
}

function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify({ o: c.order, k: c.key })).toString("base64url");
}

/** A cursor from a previous page of the same order, or BAD_REQUEST (never a 500 on a forged one). */
function decodeCursor(cursor: string, order: ListOrder, terms: SortTerm[]): KeyValue[] {
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    // reported below
  }
  const c = parsed as { o?: unknown; k?: unknown } | null;
  if (c === null || typeof c !== "object" || !Array.isArray(c.k)) throw invalid("invalid cursor");
  if (c.o !== order) throw invalid(`this cursor continues a list ordered by '${String(c.o)}', not '${order}'`);
  const key = c.k as unknown[];
  const ok =
    key.length === terms.length &&
    key.every((v) => typeof v === "string" || (typeof v === "number" && Number.isFinite(v)));
  if (!ok) throw invalid("invalid cursor");
  return key as KeyValue[];
}

/** `(k1 > v1) OR (k1 = v1 AND k2 > v2) OR …`, with `<` for descending terms: rows strictly after the key. */
function afterKey(terms: SortTerm[], key: KeyValue[]): { sql: string; args: KeyValue[] } {
  const ors: string[] = [];
  const args: KeyValue[] = [];
  terms.forEach((term, i) => {
    const ands: string[] = [];
    terms.slice(0, i).forEach((equal, j) => {
      ands.push(`${equal.expr} = ?`);
      args.push(key[j] as KeyValue);
    });
    ands.push(`${term.expr} ${term.dir === "ASC" ? ">" : "<"} ?`);
    args.push(key[i] as KeyValue);
    ors.push(`(${ands.join(" AND ")})`);
  });
  return { sql: `(${ors.join(" OR ")})`, args };
}

export interface TaskPage {
  tasks: TaskDto[];
  /** Pass back as `cursor` for the next page; null when this page is the last. */
  next_cursor: string | null;
}

/**
 * One page of `tasks.list`: the kernel's filter, the order `order_by` names (ties broken by id or rowid),
 * at most `limit` tasks and, beyond the first task, no more than `maxBytes` of serialised tasks.
 * Bodies are read one task at a time, so a board of huge bodies never sits in memory at once.
 */
export async function taskPage(
  ctx: BoardContext,
  filter: Omit<ListTasksFilter, "limit">,
  opts: { cursor?: string | null; limit?: number | null; maxBytes?: number },
  /** The page's `warnings` (`Board.warnings`: one diagnostics run for the page's ids). */
  warningsOf: (ids: string[]) => Promise<Map<string, TaskWarnings>>,
): Promise<TaskPage> {
  const order = (filter.order_by ?? "priority") as ListOrder;
  if (!(order in LIST_ORDERS)) throw invalid(`order_by must be one of ${Object.keys(LIST_ORDERS).join(", ")}`);
  const limit = opts.limit ?? TASK_PAGE.defaultLimit;
  const maxBytes = opts.maxBytes ?? TASK_PAGE.maxBytes;
  const terms = keyTerms(order);
  const { where, args } = listTasksWhere(filter);
  const conditions = [...where];
  const params: unknown[] = [...args];
  if (opts.cursor) {
    const after = afterKey(terms, decodeCursor(opts.cursor, order, terms));
    conditions.push(after.sql);
    params.push(...after.args);
  }
  // Two steps: the page's ids and keys first (the sort then carries keys, not 1 MiB bodies), then
  // each task by id until the page is full, so no more than one page of bodies is ever read.
  const keys = terms.map((t, i) => `${t.expr} AS k${i}`).join(", ");
  const sql =
    `SELECT id, ${keys} FROM tasks${conditions.length > 0 ? ` WHERE ${conditions.join(" AND ")}` : ""}` +
    ` ORDER BY ${terms.map((t) => `${t.expr} ${t.dir}`).join(", ")} LIMIT ?`;
  const rows = ((await ctx.all(sql, ...params, limit + 1)) as Record<string, KeyValue>[]).map(
    (r) => [String(r.id), ...terms.map((_, i) => r[`k${i}`])] as [string, ...KeyValue[]],
  );

  const tasks: Task[] = [];
  let lastKey: KeyValue[] | null = null;
  let more = rows.length > limit;
  let bytes = 0;
  for (const [id, ...key] of rows.slice(0, limit)) {
    const task = await ctx.getTask(id);
    if (task === null) continue; // deleted between the two reads
    // The size the client will receive (warnings and links add little next to body and result).
    const size = Buffer.byteLength(JSON.stringify(task));
    if (tasks.length > 0 && bytes + size > maxBytes) {
      more = true;
      break;
    }
    bytes += size;
    tasks.push(task);
    lastKey = key;
  }
  const warnings = await warningsOf(tasks.map((t) => t.id));
  const requires = await requiresOf(
    ctx,
    tasks.map((t) => t.id),
  );
  return {
    tasks: tasks.map((t) => ({
      ...t,
      warnings: warnings.get(t.id) ?? null,
      skills: t.skills ?? [],
      requires: requires.get(t.id) ?? [],
    })),
    next_cursor: more && lastKey !== null ? encodeCursor({ order, key: lastKey }) : null,
  };
}
