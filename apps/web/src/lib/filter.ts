/** The toolbar's filters. Applied on the server (authoritative) and at once on the loaded board. */
export interface BoardFilters {
  search: string;
  tenant: string | null;
  assignee: string | null;
}

export const NO_FILTERS: BoardFilters = { search: "", tenant: null, assignee: null };

interface Filterable {
  id: string;
  title: string;
  body: string | null;
  result: string | null;
  latest_summary?: string | null;
  assignee: string | null;
  tenant: string | null;
}

/** The same fields the server searches (plus the card's latest summary), case-insensitively. */
export function matchesFilters(task: Filterable, f: BoardFilters): boolean {
  if (f.tenant && task.tenant !== f.tenant) return false;
  if (f.assignee && (task.assignee ?? "").toLowerCase() !== f.assignee.toLowerCase()) return false;
  const q = f.search.trim().toLowerCase();
  if (q === "") return true;
  return [task.id, task.title, task.body, task.result, task.latest_summary, task.assignee, task.tenant].some((v) =>
    (v ?? "").toLowerCase().includes(q),
  );
}

export function hasFilters(f: BoardFilters): boolean {
  return f.search.trim() !== "" || f.tenant !== null || f.assignee !== null;
}

/**
 * The view a URL holds (`?q=…&tenant=…&assignee=…&archived=1`): the filters it names, and whether
 * it says anything about archived cards (null: it does not, so the board's default applies).
 */
export function viewFromParams(params: { get(name: string): string | null }): {
  filters: BoardFilters;
  named: { tenant: boolean; archived: boolean };
  archived: boolean | null;
} {
  const tenant = params.get("tenant");
  const archived = params.get("archived");
  return {
    filters: {
      search: params.get("q") ?? "",
      tenant: tenant || null,
      assignee: params.get("assignee") || null,
    },
    named: { tenant: tenant !== null, archived: archived !== null },
    archived: archived === null ? null : archived === "1",
  };
}

/** The URL parameters of a view (null removes one), the inverse of {@link viewFromParams}. */
export function viewToParams(f: BoardFilters, archived: boolean): Record<string, string | null> {
  return {
    q: f.search.trim() || null,
    tenant: f.tenant,
    assignee: f.assignee,
    archived: archived ? "1" : null,
  };
}
