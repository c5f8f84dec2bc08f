/** What a move asks of the person before it is sent (the confirmations of the spec). */
export type MoveGuard =
  | { kind: "none" }
  | { kind: "confirm"; title: string; body: string; confirmLabel: string; danger: boolean; reason?: { label: string } }
  | { kind: "summary"; title: string; body: string };

export function moveGuard(target: string, count: number): MoveGuard {
  const many = count > 1 ? `${count} tasks` : "this task";
  switch (target) {
    case "done":
      return {
        kind: "summary",
        title: count > 1 ? `Mark ${count} tasks as done?` : "Mark this task as done?",
        body: "The worker's claim is released and dependent children become ready. Say what was done: it is stored as the result and summary.",
      };
    case "blocked":
      return {
        kind: "confirm",
        title: `Mark ${many} as blocked?`,
        body: "The worker's claim is released.",
        confirmLabel: "Block",
        danger: false,
        reason: { label: "Reason (optional)" },
      };
    case "archived":
      return {
        kind: "confirm",
        title: `Archive ${many}?`,
        body: "It disappears from the default board view.",
        confirmLabel: "Archive",
        danger: false,
      };
    default:
      return { kind: "none" };
  }
}

/**
 * Moving Done cards back to an open column undoes finished work: in Ready the dispatcher runs their
 * agents again. Asked before every such move (drag, keyboard, bulk), naming how many.
 */
export function reopenGuard(
  target: string,
  doneCount: number,
  total: number,
): { title: string; body: string; confirmLabel: string } | null {
  if (doneCount === 0 || target === "done" || target === "archived") return null;
  const which =
    doneCount === total
      ? doneCount === 1
        ? "This task is done"
        : `All ${doneCount} tasks are done`
      : `${doneCount} of the ${total} tasks are done`;
  const what =
    target === "ready"
      ? `In Ready the dispatcher runs ${doneCount === 1 ? "its agent" : "their agents"} again.`
      : `${doneCount === 1 ? "It leaves" : "They leave"} Done; once in Ready, the dispatcher runs ${doneCount === 1 ? "its agent" : "their agents"} again.`;
  return {
    title: doneCount === 1 ? "Reopen 1 done task?" : `Reopen ${doneCount} done tasks?`,
    body: `${which}. ${what}`,
    confirmLabel: doneCount === 1 ? "Reopen it" : `Reopen ${doneCount}`,
  };
}

export function deleteGuard(count: number): { title: string; body: string } {
  return count > 1
    ? { title: `Permanently delete ${count} selected tasks?`, body: "This cannot be undone." }
    : { title: "Permanently delete this task?", body: "This cannot be undone." };
}

interface MovableBoard<T extends { id: string; status: string }> {
  columns: { name: string; total: number; tasks: T[] }[];
}

/**
 * The board as it will look once the move lands: the cards leave their columns and join the
 * target's top (the server re-sorts on the next reload). Ids not on the board are ignored.
 */
export function applyOptimisticMove<T extends { id: string; status: string }, B extends MovableBoard<T>>(
  board: B,
  ids: readonly string[],
  target: string,
): B {
  const moving = new Set(ids);
  const moved: T[] = [];
  const columns = board.columns.map((col) => {
    if (col.name === target) return col;
    const keep = col.tasks.filter((t) => {
      if (!moving.has(t.id)) return true;
      moved.push({ ...t, status: target });
      return false;
    });
    return keep.length === col.tasks.length
      ? col
      : { ...col, tasks: keep, total: Math.max(0, col.total - (col.tasks.length - keep.length)) };
  });
  return {
    ...board,
    columns: columns.map((col) =>
      col.name === target && moved.length > 0
        ? { ...col, tasks: [...moved, ...col.tasks], total: col.total + moved.length }
        : col,
    ),
  };
}

/** Removes cards (deleted, or archived while archived is hidden). */
export function removeCards<T extends { id: string; status: string }, B extends MovableBoard<T>>(
  board: B,
  ids: readonly string[],
): B {
  const gone = new Set(ids);
  return {
    ...board,
    columns: board.columns.map((col) => {
      const keep = col.tasks.filter((t) => !gone.has(t.id));
      return keep.length === col.tasks.length
        ? col
        : { ...col, tasks: keep, total: Math.max(0, col.total - (col.tasks.length - keep.length)) };
    }),
  };
}

/** The API takes at most this many ids per bulk call (its LIMITS.arrayItems). */
export const BULK_MAX_IDS = 500;

/** Splits ids into bulk-sized calls, in order. */
export function chunksOf<T>(items: readonly T[], size: number = BULK_MAX_IDS): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
