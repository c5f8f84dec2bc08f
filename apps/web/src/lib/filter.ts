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
