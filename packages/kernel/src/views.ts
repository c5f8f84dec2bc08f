import type { BoardContext } from "./context.ts";
import { invalid, notFound } from "./errors.ts";
import { parseStoredJson } from "./stored-json.ts";
import { deleteViewRow, upsertViewRow, viewRows } from "./store/sqlite/views.ts";

// Saved views (issue 19): a board's filters under a name, so that a team opens the same view. Each
// owner (the operator, or one tenant) has its own names; a view holds what the board's URL holds.

/** The filters a view keeps (board.get's filters). */
export interface ViewQuery {
  search: string | null;
  tenant: string | null;
  assignee: string | null;
  include_archived: boolean;
}

export interface SavedView {
  name: string;
  query: ViewQuery;
  /** Who saved it last, when they said. */
  created_by: string | null;
  updated_at: number;
}

export const VIEW_NAME_MAX = 80;

/** A view's name as stored: trimmed, 1–80 characters, no control characters. */
export function viewName(raw: string): string {
  const name = raw.trim();
  if (name === "") throw invalid("a view needs a name");
  if (name.length > VIEW_NAME_MAX) throw invalid(`a view's name is at most ${VIEW_NAME_MAX} characters`);
  if (/[\u0000-\u001f\u007f]/.test(name)) throw invalid("a view's name cannot hold control characters");
  return name;
}

function text(v: unknown): string | null {
  return typeof v === "string" && v.trim() !== "" ? v.trim() : null;
}

/** A stored query read tolerantly: a field of the wrong type is as if it were not set. */
function queryOf(stored: string): ViewQuery {
  const parsed = parseStoredJson(stored);
  const q =
    parsed !== null && "value" in parsed && typeof parsed.value === "object" && parsed.value !== null
      ? (parsed.value as Record<string, unknown>)
      : {};
  return {
    search: text(q.search),
    tenant: text(q.tenant),
    assignee: text(q.assignee),
    include_archived: q.include_archived === true,
  };
}

export async function listViews(ctx: BoardContext, owner: string): Promise<SavedView[]> {
  return (await viewRows(ctx, owner)).map((r) => ({
    name: r.name,
    query: queryOf(r.query),
    created_by: r.created_by,
    updated_at: r.updated_at,
  }));
}

/** Saves (or replaces) the owner's view `name`; returns it as stored. */
export async function saveView(
  ctx: BoardContext,
  owner: string,
  input: { name: string; query: Partial<ViewQuery>; created_by?: string | null },
): Promise<SavedView> {
  const name = viewName(input.name);
  const query: ViewQuery = {
    search: text(input.query.search),
    tenant: text(input.query.tenant),
    assignee: text(input.query.assignee)?.toLowerCase() ?? null,
    include_archived: input.query.include_archived === true,
  };
  const row = { name, query: JSON.stringify(query), created_by: text(input.created_by), updated_at: ctx.now() };
  await upsertViewRow(ctx, owner, row);
  return { name, query, created_by: row.created_by, updated_at: row.updated_at };
}

export async function deleteView(ctx: BoardContext, owner: string, rawName: string): Promise<void> {
  const name = rawName.trim();
  if (!(await deleteViewRow(ctx, owner, name))) throw notFound(`no saved view named '${name}'`);
}
