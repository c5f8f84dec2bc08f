"use client";

import { Button } from "./ui.tsx";

/**
 * The board opened from an analytics drill-down (`?ids=`): it shows only the picked cards, says how
 * many of them are on screen (a done card past the loaded page of the done column is not), and
 * clears back to the whole board.
 */
export function PickedBanner({ picked, shown, onClear }: { picked: number; shown: number; onClear: () => void }) {
  return (
    <div
      data-testid="picked-banner"
      className="flex items-center gap-3 border-line border-b bg-accent-soft px-4 py-1.5 text-[13px]"
    >
      <span data-testid="picked-count">
        Showing {shown} of the {picked} card{picked === 1 ? "" : "s"} picked on the analytics page
        {shown < picked ? " (the others are not loaded on the board, or filtered out)" : ""}
      </span>
      <span className="flex-1" />
      <Button size="sm" variant="ghost" data-testid="picked-clear" onClick={onClear}>
        Show all cards
      </Button>
    </div>
  );
}
