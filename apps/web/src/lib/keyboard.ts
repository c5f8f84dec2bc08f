/** Keys the board navigates with: arrows or vim keys (j/k down/up, h/l left/right). */
export type NavKey = "up" | "down" | "left" | "right" | "first" | "last";

export function navKeyOf(key: string): NavKey | null {
  switch (key) {
    case "ArrowUp":
    case "k":
      return "up";
    case "ArrowDown":
    case "j":
      return "down";
    case "ArrowLeft":
    case "h":
      return "left";
    case "ArrowRight":
    case "l":
      return "right";
    case "Home":
      return "first";
    case "End":
      return "last";
    default:
      return null;
  }
}

function locate(grid: readonly (readonly string[])[], id: string): [number, number] | null {
  for (let c = 0; c < grid.length; c++) {
    const r = grid[c]?.indexOf(id) ?? -1;
    if (r !== -1) return [c, r];
  }
  return null;
}

/**
 * The card focused after a navigation key. `grid` holds each visible column's card ids in the
 * order they are drawn. Left/right skip empty columns and keep the row where they can; with
 * nothing focused yet, any key lands on the first card.
 */
export function navigate(grid: readonly (readonly string[])[], current: string | null, key: NavKey): string | null {
  const firstCard = grid.find((col) => col.length > 0)?.[0] ?? null;
  const at = current === null ? null : locate(grid, current);
  if (at === null) return firstCard;
  const [c, r] = at;
  const col = grid[c] ?? [];
  switch (key) {
    case "up":
      return col[Math.max(0, r - 1)] ?? current;
    case "down":
      return col[Math.min(col.length - 1, r + 1)] ?? current;
    case "first":
      return col[0] ?? current;
    case "last":
      return col[col.length - 1] ?? current;
    case "left":
    case "right": {
      const step = key === "left" ? -1 : 1;
      for (let i = c + step; i >= 0 && i < grid.length; i += step) {
        const target = grid[i] ?? [];
        if (target.length > 0) return target[Math.min(r, target.length - 1)] ?? current;
      }
      return current;
    }
  }
}

/** The column a keyboard move (Shift+←/→) sends a card to: the neighbour among `targets`. */
export function adjacentStatus(targets: readonly string[], from: string, direction: -1 | 1): string | null {
  const i = targets.indexOf(from);
  if (i === -1) return null;
  return targets[i + direction] ?? null;
}

/** Whether a key event comes from a field the person is typing into (shortcuts stay quiet). */
export function isTypingTarget(el: EventTarget | null): boolean {
  if (typeof HTMLElement === "undefined" || !(el instanceof HTMLElement)) return false;
  return el.matches("input, textarea, select") || el.isContentEditable;
}

/** A keydown handler that runs `fn` on Enter (and keeps the Enter from submitting or adding a newline). */
export function onEnter(fn: () => void): (e: { key: string; preventDefault(): void }) => void {
  return (e) => {
    if (e.key === "Enter") {
      e.preventDefault();
      fn();
    }
  };
}
