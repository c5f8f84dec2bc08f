import type { BoardFilters } from "./filter.ts";

/** A saved view's filters as the API keeps them (views.list). */
export interface ViewQuery {
  search: string | null;
  tenant: string | null;
  assignee: string | null;
  include_archived: boolean;
}

/** The board's filters a saved view opens. */
export function filtersOfView(q: ViewQuery): { filters: BoardFilters; archived: boolean } {
  return {
    filters: { search: q.search ?? "", tenant: q.tenant, assignee: q.assignee },
    archived: q.include_archived,
  };
}

/** The saved view the board shows now, if any: its filters are exactly the board's. */
export function currentView<V extends { name: string; query: ViewQuery }>(
  views: readonly V[],
  f: BoardFilters,
  archived: boolean,
): V | null {
  const search = f.search.trim() || null;
  return (
    views.find(
      (v) =>
        v.query.search === search &&
        v.query.tenant === f.tenant &&
        (v.query.assignee ?? null) === (f.assignee?.toLowerCase() ?? null) &&
        v.query.include_archived === archived,
    ) ?? null
  );
}
