"use client";

import { useState } from "react";
import type { AttentionItem } from "../lib/attention.ts";
import { columnLabel } from "../lib/columns.ts";
import { ago, SEVERITY_CLASS } from "../lib/format.ts";
import { ChevronIcon, WarnIcon, XIcon } from "./icons.tsx";
import { Button, cx } from "./ui.tsx";

/** Every flagged task, worst first, each with Open; dismissible for the session. */
export function AttentionStrip({
  items,
  now,
  onOpen,
  onDismiss,
}: {
  items: AttentionItem[];
  now: number;
  onOpen: (id: string) => void;
  onDismiss: () => void;
}) {
  const [expanded, setExpanded] = useState(true);
  const worst = items[0]?.severity ?? "warning";
  return (
    <section
      data-testid="attention-strip"
      aria-label="Tasks that need attention"
      className={cx(
        "mx-3 mt-2 rounded-lg border bg-panel",
        worst === "warning" ? "border-warn/40" : "border-danger/40",
      )}
    >
      <div className="flex items-center gap-2 px-3 py-1.5">
        <button
          type="button"
          aria-expanded={expanded}
          className="flex flex-1 items-center gap-2 text-left"
          onClick={() => setExpanded(!expanded)}
        >
          <ChevronIcon className={cx("text-faint transition-transform", expanded && "rotate-90")} />
          <WarnIcon className={worst === "warning" ? "text-warn" : "text-danger"} />
          <span className="font-medium" data-testid="attention-count">
            {items.length} task{items.length === 1 ? "" : "s"} need{items.length === 1 ? "s" : ""} attention
          </span>
        </button>
        <button
          type="button"
          aria-label="Dismiss for this session"
          data-testid="attention-dismiss"
          className="rounded p-1 text-faint hover:bg-hover hover:text-fg"
          onClick={onDismiss}
        >
          <XIcon />
        </button>
      </div>
      {expanded && (
        <ul className="max-h-48 divide-y divide-line overflow-y-auto border-line border-t">
          {items.map((it) => (
            <li
              key={it.task_id}
              data-testid={`attention-row-${it.task_id}`}
              className="flex items-center gap-2 px-3 py-1.5"
            >
              <span
                className={cx(
                  "w-16 shrink-0 rounded px-1.5 py-px text-center font-medium text-[11px] ring-1 ring-inset",
                  SEVERITY_CLASS[it.severity],
                )}
              >
                {it.severity}
              </span>
              <span className="shrink-0 font-mono text-faint text-xs">{it.task_id}</span>
              <span className="min-w-0 flex-1 truncate">
                <span className="font-medium">{it.title}</span>
                <span className="text-muted"> — {it.reason}</span>
              </span>
              <span className="hidden shrink-0 text-faint text-xs sm:inline">
                {columnLabel(it.status)}
                {it.assignee ? ` · @${it.assignee}` : ""} · {ago(it.latest_at, now)}
              </span>
              <Button size="sm" data-testid={`attention-open-${it.task_id}`} onClick={() => onOpen(it.task_id)}>
                Open
              </Button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
