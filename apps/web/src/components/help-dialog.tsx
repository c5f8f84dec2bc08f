"use client";

import { Modal } from "./modal.tsx";
import { Kbd } from "./ui.tsx";

const KEYS: [string[], string][] = [
  [["c"], "Create a task"],
  [["/"], "Search"],
  [["↑", "↓"], "Move between cards (or k / j)"],
  [["←", "→"], "Move between columns (or h / l)"],
  [["Enter"], "Open the focused card"],
  [["x"], "Select or unselect the focused card"],
  [["Shift", "←/→"], "Move the focused (or selected) cards to the next column"],
  [["Esc"], "Close the drawer or dialog, clear the selection"],
  [["?"], "This help"],
];

export function HelpDialog({ onClose }: { onClose: () => void }) {
  return (
    <Modal title="Keyboard shortcuts" testId="help-dialog" onClose={onClose}>
      <ul className="space-y-1.5">
        {KEYS.map(([keys, what]) => (
          <li key={what} className="flex items-center justify-between gap-4">
            <span className="text-muted">{what}</span>
            <span className="flex gap-1">
              {keys.map((k) => (
                <Kbd key={k}>{k}</Kbd>
              ))}
            </span>
          </li>
        ))}
      </ul>
      <p className="mt-3 text-faint text-xs">
        Shift- or Ctrl-click cards to select several; drag a card onto a column to move it, or onto the trash to delete
        it.
      </p>
    </Modal>
  );
}
