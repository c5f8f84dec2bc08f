"use client";

import { useQuery } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { type AttentionItem, attentionItems } from "../lib/attention.ts";
import { columnLabel } from "../lib/columns.ts";
import { ago, SEVERITY_CLASS } from "../lib/format.ts";
import { errorMessage, useTRPC } from "../trpc/react.tsx";
import { ChevronIcon, WarnIcon, XIcon } from "./icons.tsx";
import { Button, cx } from "./ui.tsx";

/**
 * The worst flagged tasks (board.get's rows, at most 100) with how many are flagged in all, each
 * with Open; dismissible for the session. When more are flagged than shown, "Show all" asks
 * diagnostics.list for the whole list, once per opening: a board refresh never carries it.
 */
export function AttentionStrip({
  board,
  rows,
  total,
  now,
  onOpen,
  onDismiss,
}: {
  board: string | null;
  rows: AttentionItem[];
  total: number;
  now: number;
  onOpen: (id: string) => void;
  /** Told which tasks the person had in front of them (the whole list when they had opened it). */
  onDismiss: (seen: string[]) => void;
}) {
  const trpc = useTRPC();
  const [expanded, setExpanded] = useState(true);
  const [showAll, setShowAll] = useState(false);
  const more = total > rows.length;
  const full = useQuery({
    ...trpc.diagnostics.list.queryOptions({ board: board ?? undefined }),
    enabled: showAll && more,
    // Asked when the person opens the list; neither a refocus nor a board refresh fetches it again.
    refetchOnWindowFocus: false,
    retry: false,
  });
  const fullItems = useMemo(() => (full.data ? attentionItems(full.data.diagnostics) : null), [full.data]);
  // Once no more are flagged than shown, the board's own rows are the whole (and fresher) list.
  const items = showAll && more && fullItems ? fullItems : rows;
  const worst = items[0]?.severity ?? rows[0]?.severity ?? "warning";
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
            {total} task{total === 1 ? "" : "s"} need{total === 1 ? "s" : ""} attention
          </span>
        </button>
        <button
          type="button"
          aria-label="Dismiss for this session"
          data-testid="attention-dismiss"
          className="rounded p-1 text-faint hover:bg-hover hover:text-fg"
          onClick={() => onDismiss(items.map((it) => it.task_id))}
        >
          <XIcon />
        </button>
      </div>
      {expanded && (
        <>
          <ul
            data-testid="attention-rows"
            className="max-h-48 divide-y divide-line overflow-y-auto border-line border-t"
          >
            {items.map((it) => (
              <AttentionRowView key={it.task_id} item={it} now={now} onOpen={onOpen} />
            ))}
          </ul>
          {more && (
            <div
              data-testid="attention-more"
              className="flex items-center gap-2 border-line border-t px-3 py-1.5 text-muted text-xs"
            >
              {!showAll ? (
                <>
                  <span className="flex-1">Showing the {rows.length} worst.</span>
                  <Button size="sm" variant="ghost" data-testid="attention-show-all" onClick={() => setShowAll(true)}>
                    Show all {total}
                  </Button>
                </>
              ) : full.isError ? (
                <>
                  <span className="flex-1 text-danger" role="alert">
                    Could not load the full list: {errorMessage(full.error)}
                  </span>
                  <Button size="sm" variant="ghost" onClick={() => void full.refetch()}>
                    Try again
                  </Button>
                </>
              ) : !fullItems ? (
                <span className="flex-1">Loading all {total}…</span>
              ) : (
                <>
                  <span className="flex-1" data-testid="attention-showing-all">
                    Showing all {fullItems.length}.
                  </span>
                  <Button
                    size="sm"
                    variant="ghost"
                    data-testid="attention-show-worst"
                    onClick={() => setShowAll(false)}
                  >
                    Show the {rows.length} worst
                  </Button>
                </>
              )}
            </div>
          )}
        </>
      )}
    </section>
  );
}

function AttentionRowView({
  item: it,
  now,
  onOpen,
}: {
  item: AttentionItem;
  now: number;
  onOpen: (id: string) => void;
}) {
  return (
    <li data-testid={`attention-row-${it.task_id}`} className="flex items-center gap-2 px-3 py-1.5">
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
  );
}
