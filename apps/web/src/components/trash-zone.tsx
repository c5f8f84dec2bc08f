"use client";

import { useDroppable } from "@dnd-kit/core";
import { TrashIcon } from "./icons.tsx";
import { cx } from "./ui.tsx";

/** Appears while a card is dragged: dropping on it deletes (after a confirmation). */
export function TrashZone({ count }: { count: number }) {
  const { setNodeRef, isOver } = useDroppable({ id: "trash" });
  return (
    <div
      ref={setNodeRef}
      data-testid="trash-zone"
      data-over={isOver || undefined}
      className={cx(
        "-translate-x-1/2 fixed bottom-5 left-1/2 z-30 flex items-center gap-2 rounded-xl border-2 border-dashed px-6 py-3 shadow-pop transition-colors",
        isOver ? "border-danger bg-danger-soft text-danger" : "border-line-strong bg-panel text-muted",
      )}
    >
      <TrashIcon />
      {count > 1 ? `Drop here to permanently delete ${count} tasks` : "Drag a card here to permanently delete it"}
    </div>
  );
}
