"use client";

import { useEffect, useRef, useState } from "react";
import { columnLabel, STATUS_ORDER } from "../lib/columns.ts";
import type { BulkResult } from "../lib/types.ts";
import { XIcon } from "./icons.tsx";
import { Button, Input, Select } from "./ui.tsx";

export interface BulkBarProps {
  ids: string[];
  assignees: string[];
  failures: BulkResult[];
  onMove: (target: string) => void;
  onArchive: () => void;
  onAssign: (assignee: string, reclaimFirst: boolean) => void;
  onPriority: (priority: number) => void;
  onDelete: () => void;
  onClear: () => void;
}

/** Actions on every selected card at once; each id succeeds or fails on its own, failures listed. */
export function BulkBar(props: BulkBarProps) {
  const [assignee, setAssignee] = useState("");
  const [reclaimFirst, setReclaimFirst] = useState(false);
  const [priority, setPriority] = useState("");
  const n = props.ids.length;
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    // Toasts stack above the bar instead of covering its buttons, and the board's columns end
    // above it (so their "Show more" stays reachable).
    const el = ref.current;
    if (!el || typeof ResizeObserver === "undefined") return;
    const root = document.documentElement;
    const ro = new ResizeObserver(() => {
      root.style.setProperty("--toast-offset", `${el.offsetHeight + 16}px`);
      root.style.setProperty("--bulk-offset", `${el.offsetHeight + 16}px`);
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      root.style.removeProperty("--toast-offset");
      root.style.removeProperty("--bulk-offset");
    };
  }, []);
  return (
    <div
      ref={ref}
      data-testid="bulk-bar"
      role="toolbar"
      aria-label="Bulk actions"
      className="-translate-x-1/2 fixed bottom-4 left-1/2 z-20 w-[min(980px,calc(100vw-2rem))] rounded-xl border border-line bg-panel p-2 shadow-pop"
    >
      <div className="flex flex-wrap items-center gap-2">
        <span className="px-1 font-medium" data-testid="bulk-count">
          {n} selected
        </span>
        <Select
          aria-label="Move selected to"
          data-testid="bulk-status"
          value=""
          onChange={(e) => {
            if (e.target.value) props.onMove(e.target.value);
          }}
        >
          <option value="">Move to…</option>
          {STATUS_ORDER.filter((s) => s !== "running" && s !== "review" && s !== "archived").map((s) => (
            <option key={s} value={s}>
              {columnLabel(s)}
            </option>
          ))}
        </Select>
        <Button data-testid="bulk-archive" onClick={props.onArchive}>
          Archive
        </Button>
        <span className="mx-1 h-5 w-px bg-line" />
        <Select
          aria-label="Assign selected to"
          data-testid="bulk-assignee"
          value={assignee}
          onChange={(e) => setAssignee(e.target.value)}
        >
          <option value="">(unassign)</option>
          {props.assignees.map((a) => (
            <option key={a} value={a}>
              {a}
            </option>
          ))}
        </Select>
        <label className="inline-flex items-center gap-1 text-xs">
          <input
            type="checkbox"
            className="accent-[var(--accent)]"
            data-testid="bulk-reclaim-first"
            checked={reclaimFirst}
            onChange={(e) => setReclaimFirst(e.target.checked)}
          />
          Reclaim first
        </label>
        <Button data-testid="bulk-assign" onClick={() => props.onAssign(assignee, reclaimFirst)}>
          {assignee ? "Assign" : "Unassign"}
        </Button>
        <span className="mx-1 h-5 w-px bg-line" />
        <Input
          aria-label="Priority for selected"
          data-testid="bulk-priority"
          type="number"
          className="w-20"
          placeholder="Priority"
          value={priority}
          onChange={(e) => setPriority(e.target.value)}
        />
        <Button
          data-testid="bulk-priority-apply"
          disabled={priority.trim() === "" || !Number.isInteger(Number(priority))}
          onClick={() => props.onPriority(Number(priority))}
        >
          Set
        </Button>
        <span className="flex-1" />
        <Button variant="danger" data-testid="bulk-delete" onClick={props.onDelete}>
          Delete
        </Button>
        <button
          type="button"
          aria-label="Clear selection (Esc)"
          data-testid="bulk-clear"
          className="rounded p-1 text-faint hover:bg-hover hover:text-fg"
          onClick={props.onClear}
        >
          <XIcon />
        </button>
      </div>
      {props.failures.length > 0 && (
        <ul
          data-testid="bulk-failures"
          className="mt-2 max-h-28 overflow-y-auto rounded-md bg-danger-soft px-2 py-1 text-danger text-xs"
        >
          {props.failures.map((f) => (
            <li key={f.id}>
              <span className="font-mono">{f.id}</span>: {f.error ?? "refused"}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
